"""The "Now" page (#20) over real HTTP, on SQLite and PostgreSQL: a police report goes
through triage and the notifier (a real SMTP inbox, a real webhook) and shows on the
page with its level, its reasons and its messages; staff acknowledge it with the
page's form, in their own name; the list follows changes as server-sent events; the
police team's alerts stay the police's. And the managers' recipients page."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select, update

from events.contracts.alerts import AlertContact, AlertEscalated
from events.contracts.triage import RiskAssessed
from events.envelope import NewEvent
from events.store import Append, Commit
from services.api.tables import web_sessions
from services.notifier import pages
from services.notifier.tables import alerts
from tests.api import Browser
from tests.integration.test_alerts_api import sse_events
from tests.integration.test_follow_ups import NOW, Rig, a_rig
from tests.waiting import eventually

CARD = re.compile(r'<li class="lantern-alert" id="alert-([0-9a-f-]{36})"')


async def reported(rig: Rig, hours_ago: float = 2) -> str:
    """A police report, assessed, its alerts raised (the social worker's, the
    child's team's and the police exploitation team's) and their messages sent."""
    episode = await rig.episode(NOW - timedelta(hours=hours_ago))

    async def raised() -> bool:
        return len(await alerts_of(rig, episode)) >= 3

    await eventually(raised, what="the report's alerts raised")
    await rig.settled()
    return episode


async def alerts_of(rig: Rig, episode: str) -> list[Any]:
    query = select(alerts).where(alerts.c.episode_id == UUID(episode))
    return list(await rig.api.store.select(query))


async def assessment(rig: Rig, episode: str) -> RiskAssessed:
    found = [
        e.event
        for e in await rig.api.store.read_stream(f"episode-{episode}")
        if isinstance(e.event, RiskAssessed)
    ]
    return found[-1]


def cards(page: str) -> list[str]:
    return CARD.findall(page)


def card(page: str, alert_id: Any) -> str:
    """The HTML of one alert's card."""
    start = page.index(f'id="alert-{alert_id}"')
    end = page.find('<li class="lantern-alert"', start + 1)
    return page[start : end if end > 0 else len(page)]


class TestTheList:
    async def test_a_police_report_shows_with_its_level_reasons_and_messages(
        self, database_url
    ):
        async with a_rig(database_url) as rig:
            staff = await rig.api.person("staff")
            episode = await reported(rig)
            response = await staff.http.get("/now")
            assert response.status_code == 200
            page = response.text
            assessed = await assessment(rig, episode)
            council = [a for a in await alerts_of(rig, episode) if a.role != "mcet"]
            assert council, "the report raised no council alert"
            assert sorted(cards(page)) == sorted(str(a.alert_id) for a in council)
            social = next(a for a in council if a.role == "social_worker")
            html = card(page, social.alert_id)
            assert "Sam T." in html and "Taylor" not in page  # least data
            assert "KNT-" in html
            tag = {"high": "red", "medium": "orange", "low": "grey"}[assessed.level]
            assert f'govuk-tag--{tag}">{assessed.level.capitalize()} risk' in html
            assert assessed.factors, "triage gave no factor to show"
            for factor in assessed.factors:
                words = factor.code.replace("_", " ").capitalize()
                assert f"{words}</span> ({factor.source.replace('_', ' ')})" in html
            assert "Social worker by E-mail" in html
            assert re.search(r"govuk-tag--(blue|green)\">(Sent|Delivered)", html)
            assert "alex.sw@council.example" not in page  # roles, not addresses
            assert re.search(r"open 2 h \d+ min", html) is None  # raised just now
            assert "open under 1 min" in html or "open 1 min" in html
            assert f'href="/episodes/{episode}"' in html
            assert "Riskiest first" in page

    async def test_a_police_teams_alert_is_not_on_the_page(self, database_url):
        async with a_rig(database_url) as rig:
            staff = await rig.api.person("staff")
            episode = await reported(rig)
            [mcet] = [a for a in await alerts_of(rig, episode) if a.role == "mcet"]
            police = (await rig.api.get("/v1/alerts", client="kent")).json()
            assert str(mcet.alert_id) in [a["alert_id"] for a in police["items"]]
            page = (await staff.http.get("/now")).text
            assert str(mcet.alert_id) not in page
            assert "Police exploitation team" not in page
            refused = await staff.submit(f"/now/alerts/{mcet.alert_id}/acknowledge", {})
            assert refused.status_code == 404
            [still] = [a for a in await alerts_of(rig, episode) if a.role == "mcet"]
            assert still.status == "open"

    async def test_riskiest_first_then_the_newest(self, database_url):
        async with a_rig(database_url) as rig:
            staff = await rig.api.person("staff")
            older = await reported(rig, hours_ago=5)
            newer = await reported(rig, hours_ago=1)
            page = (await staff.http.get("/now")).text
            rows = {
                str(a.alert_id): a
                for e in (older, newer)
                for a in await alerts_of(rig, e)
                if a.role != "mcet"
            }
            shown = [rows[i] for i in cards(page)]
            rank = {"high": 0, "medium": 1, "low": 2}
            keys = [(rank[a.level], -a.raised_at.timestamp()) for a in shown]
            assert keys == sorted(keys)
            assert len(shown) == len(rows)

    async def test_an_escalated_episode_is_marked_on_each_of_its_alerts(
        self, database_url
    ):
        async with a_rig(database_url) as rig:
            staff = await rig.api.person("staff")
            episode = await reported(rig)
            other = await reported(rig)
            council = [a for a in await alerts_of(rig, episode) if a.role != "mcet"]
            carrier = council[0]
            step = AlertEscalated(
                alert_id=carrier.alert_id, step=1,
                contact=AlertContact(recipient_id="tm-west", email="tm@council.test"),
                channels=["email"], next_escalation_at=None, escalated_at=NOW,
            )  # fmt: skip
            stream = f"alert-{carrier.alert_id}"
            await rig.api.store.commit(
                Commit([Append(stream, [NewEvent(event=step)], carrier.version)])
            )
            await rig.settled()
            page = (await staff.http.get("/now")).text
            for alert in council:
                html = card(page, alert.alert_id)
                assert "Escalated to manager" in html
                assert "escalation step 1 reached" in html
            assert "Escalation step 1 by E-mail" in card(page, carrier.alert_id)
            for alert in await alerts_of(rig, other):
                if alert.role != "mcet":
                    assert "Escalated" not in card(page, alert.alert_id)

    async def test_nothing_open_says_so(self, database_url):
        async with a_rig(database_url) as rig:
            staff = await rig.api.person("staff")
            page = (await staff.http.get("/now")).text
            assert "No open alerts" in page
            assert cards(page) == []

    async def test_signed_out_goes_to_sign_in(self, database_url):
        async with a_rig(database_url) as rig:
            response = await rig.api.http.get("/now")
            assert response.status_code == 303
            assert response.headers["location"] == "/sign-in"


class TestAcknowledging:
    async def test_the_form_acknowledges_in_the_persons_name(self, database_url):
        async with a_rig(database_url) as rig:
            staff = await rig.api.person("staff")
            episode = await reported(rig)
            [social] = [
                a for a in await alerts_of(rig, episode) if a.role == "social_worker"
            ]
            path = f"/now/alerts/{social.alert_id}/acknowledge"
            response = await staff.submit(path, {})
            assert response.status_code == 303
            assert response.headers["location"] == "/now?acknowledged=1"
            page = (await staff.http.get("/now?acknowledged=1")).text
            assert "Alert acknowledged" in page
            assert str(social.alert_id) not in cards(page)
            [acked] = [
                e
                for e in await rig.api.store.read_stream(f"alert-{social.alert_id}")
                if e.type == "AlertAcknowledged"
            ]
            assert acked.actor == f"person:{staff.person_id}"
            assert acked.data["via"] == "web"
            listed = await rig.api.get("/v1/alerts?status=acknowledged", "oncall")
            assert str(social.alert_id) in [
                a["alert_id"] for a in listed.json()["items"]
            ]

            police = (await rig.api.get(f"/v1/episodes/{episode}")).json()
            assert {
                "role": "social_worker",
                "acknowledged_at": acked.data["acknowledged_at"].replace("+00:00", "Z"),
            } in [
                {**a, "acknowledged_at": a["acknowledged_at"].replace("+00:00", "Z")}
                for a in police["acknowledgements"]
            ]
            assert "person" not in json.dumps(police["acknowledgements"])

    async def test_without_the_csrf_token_it_is_refused(self, database_url):
        async with a_rig(database_url) as rig:
            staff = await rig.api.person("staff")
            episode = await reported(rig)
            [social] = [
                a for a in await alerts_of(rig, episode) if a.role == "social_worker"
            ]
            path = f"/now/alerts/{social.alert_id}/acknowledge"
            for form in ({}, {"csrf_token": "not-the-token"}):
                response = await staff.http.post(path, data=form)
                assert response.status_code == 403
                assert "This form could not be sent" in response.text
            [still] = [
                a for a in await alerts_of(rig, episode) if a.role == "social_worker"
            ]
            assert still.status == "open"
            events = await rig.api.store.read_stream(f"alert-{social.alert_id}")
            assert "AlertAcknowledged" not in [e.type for e in events]

    async def test_an_analyst_cannot_see_or_acknowledge(self, database_url):
        async with a_rig(database_url) as rig:
            analyst = await rig.api.person("analyst")
            episode = await reported(rig)
            [social] = [
                a for a in await alerts_of(rig, episode) if a.role == "social_worker"
            ]
            assert (await analyst.http.get("/now")).status_code == 403
            path = f"/now/alerts/{social.alert_id}/acknowledge"
            assert (await analyst.submit(path, {})).status_code == 403
            stream = await analyst.http.get("/now/stream")
            assert stream.status_code == 403


async def next_alert_event(
    events: AsyncIterator[dict[str, str]], wanted: set[str]
) -> dict[str, Any]:
    async with asyncio.timeout(10):
        async for event in events:
            if event["event"] == "alert":
                data: dict[str, Any] = json.loads(event["data"])
                if data["alert_id"] in wanted:
                    return data
    raise AssertionError("the stream ended")


def watch(browser: Browser, **headers: str) -> Any:
    return browser.http.stream(
        "GET", "/now/stream", headers=headers, timeout=httpx.Timeout(10)
    )


class TestLive:
    async def test_a_new_alert_is_an_event_and_the_fragment_shows_it(
        self, database_url
    ):
        async with a_rig(database_url) as rig:
            staff = await rig.api.person("staff")
            async with watch(staff) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                events = sse_events(response)
                episode = await rig.episode(NOW - timedelta(hours=1))
                council = await eventually(
                    lambda: _council_alerts(rig, episode), what="alerts raised"
                )
                got = await next_alert_event(events, {str(a) for a in council})
                assert got["type"] in ("AlertRaised", "AlertSendAttempted", "AlertSent")
            fragment = await staff.http.get("/now/alerts-fragment")
            assert fragment.status_code == 200
            assert "<html" not in fragment.text
            assert set(cards(fragment.text)) >= {str(a) for a in council}

    async def test_a_police_teams_alert_is_no_event(self, database_url):
        async with a_rig(database_url) as rig:
            staff = await rig.api.person("staff")
            async with watch(staff) as response:
                events = sse_events(response)
                episode = await reported(rig, hours_ago=1)
                rows = await alerts_of(rig, episode)
                mcet = {str(a.alert_id) for a in rows if a.role == "mcet"}
                council = {str(a.alert_id) for a in rows if a.role != "mcet"}
                assert mcet
                seen: set[str] = set()
                async with asyncio.timeout(10):
                    async for event in events:
                        if event["event"] == "alert":
                            seen.add(json.loads(event["data"])["alert_id"])
                            if seen >= council:
                                break
                assert not seen & mcet

    async def test_an_ended_session_is_told_and_the_stream_does_not_keep_it(
        self, database_url, monkeypatch: pytest.MonkeyPatch
    ):
        monkeypatch.setattr(pages, "HEARTBEAT_S", 0.2)
        async with a_rig(database_url) as rig:
            staff = await rig.api.person("staff")
            web = rig.api.app.state.container.web
            past = NOW - timedelta(minutes=5)
            async with rig.api.store.engine.begin() as conn:
                await conn.execute(
                    update(web_sessions)
                    .where(web_sessions.c.person_id == staff.person_id)
                    .values(last_seen_at=past)
                )
            async with watch(staff) as response:
                lines = response.aiter_lines()
                heartbeats = 0
                async with asyncio.timeout(5):
                    async for line in lines:  # each heartbeat checks the session
                        assert "signed-out" not in line
                        heartbeats += line == ": keep-alive"
                        if heartbeats == 2:
                            break
            # neither the stream nor the fragment counts as someone at the keyboard
            await staff.http.get("/now/alerts-fragment")
            async with rig.api.store.engine.connect() as conn:
                seen = await conn.scalar(
                    select(web_sessions.c.last_seen_at).where(
                        web_sessions.c.person_id == staff.person_id
                    )
                )
            assert seen == past
            token = staff.http.cookies["lantern_session"]
            await web.sessions.end(token, NOW)
            async with watch(staff) as response:
                events = sse_events(response)
                async with asyncio.timeout(5):
                    first = await anext(events)
            assert first["event"] == "signed-out"
            fragment = await staff.http.get("/now/alerts-fragment")
            assert fragment.status_code == 401


async def _council_alerts(rig: Rig, episode: str) -> list[UUID]:
    return [a.alert_id for a in await alerts_of(rig, episode) if a.role != "mcet"]


class TestRecipients:
    async def test_a_manager_sees_the_directory_masked(self, database_url):
        async with a_rig(database_url) as rig:
            body = {
                "kind": "duty_team",
                "name": "Duty desk",
                "email": "duty.desk@council.example",
                "phone": "07700 900123",
                "webhook_url": "http://127.0.0.1:9/hooks/secret-path",
            }
            put = await rig.api.http.put(
                "/v1/recipients/duty", json=body, headers=rig.api.auth("cms")
            )
            assert put.status_code in (200, 201), put.text
            manager = await rig.api.person("manager")
            page = (await manager.http.get("/manage/recipients")).text
            assert "Duty desk" in page and "Duty team" in page
            assert "d…@council.example" in page and "…123" in page
            assert "http://127.0.0.1:9/…" in page
            for secret in ("duty.desk@", "900123", "secret-path"):
                assert secret not in page
            staff = await rig.api.person("staff")
            assert (await staff.http.get("/manage/recipients")).status_code == 403
