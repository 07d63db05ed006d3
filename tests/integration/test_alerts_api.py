"""The alerts API over real HTTP, on SQLite and PostgreSQL: on-call staff list and
acknowledge alerts (with a token or a signed one-click link), follow them as
server-sent events, and GOV.UK Notify reports deliveries. Staff see the council's
alerts, a police client its own force's police teams'."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from events.contracts.alerts import (
    AlertClosed,
    AlertContact,
    AlertRaised,
    AlertSendAttempted,
    AlertSent,
)
from events.contracts.missing import (
    Child,
    ChildMatch,
    LastSeen,
    MissingReported,
    Placement,
    RiskGrade,
)
from events.envelope import Envelope, NewEvent
from events.registry import Event
from events.store import Append, Commit, Projector
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from services.api.app import create_app
from services.api.auth import ClientRegistry, Role
from services.api.container import Container
from services.api.links import AckLinks
from services.api.ratelimit import RateLimiter
from services.api.web.parts import web_for
from services.api.web.settings import WebSettings
from services.notifier.projector import AlertsProjector
from services.notifier.tables import deliveries
from services.processes import routers
from services.records.children import ChildMatcher, ChildrenProjector
from services.records.episodes import EpisodesProjector
from tests.e2e.processes import free_port
from tests.waiting import HTTP_TIMEOUT, eventually

NOW = datetime.now(UTC).replace(microsecond=0)
CALLBACK_TOKEN = "cb-token-0123456789"
SECRET = b"k" * 32
EMAIL = "duty@council.example"
PHONE = "+447700900123"
WEBHOOK_URL = "https://hooks.council.example/duty"
CONTACT = AlertContact(
    recipient_id="duty", email=EMAIL, phone=PHONE, webhook_url=WEBHOOK_URL
)
PRIVATE = (EMAIL, PHONE, WEBHOOK_URL)
AS_JSON = {"Content-Type": "application/json"}
AS_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class AlertsApi:
    http: httpx.AsyncClient
    store: SqlEventStore
    tokens: dict[str, str]
    links: AckLinks

    def auth(self, client: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[client]}"}

    async def get(self, path: str, client: str = "oncall", **kw: Any) -> Any:
        return await self.http.get(path, headers=self.auth(client), **kw)

    async def post(self, path: str, client: str = "oncall") -> Any:
        """A bodyless POST, as curl -X POST sends it."""
        headers = self.auth(client)
        return await self.http.post(path, headers=headers)

    async def append(self, stream: str, event: Event) -> None:
        await self.store.commit(Commit([Append(stream, [NewEvent(event=event)])]))

    async def report(self, reference: str = "", force: str = "KENT") -> UUID:
        """A missing episode, so the episodes read model has its force and ref."""
        episode_id = uuid4()
        report = MissingReported(
            episode_id=episode_id, police_force=force,
            police_reference=reference or f"KNT-{episode_id.hex[:6]}",
            reported_at=NOW - timedelta(minutes=5),
            missing_since=NOW - timedelta(hours=2), episode_type="missing",
            police_risk_grade=RiskGrade.medium,
            child=Child(la_child_id="C1", given_name="Ada",
                        family_name="Fictitious", date_of_birth=date(2010, 3, 14),
                        gender="female"),
            placement=Placement(placing_authority="886", placement_type="foster_care",
                                postcode="ME14 1AA"),
            last_seen=LastSeen(description="Fictional Road", postcode="ME14 2BB"),
            circumstances="went to meet an older man",
            match=ChildMatch(status="matched", la_child_id="C1", candidates=1),
        )  # fmt: skip
        await self.append(f"episode-{episode_id}", report)
        return episode_id

    async def raise_alert(
        self,
        episode_id: UUID | None = None,
        *,
        level: str = "medium",
        raised_at: datetime = NOW,
        role: str = "social_worker",
    ) -> UUID:
        episode_id = episode_id or await self.report()
        alert_id = uuid4()
        await self.append(
            f"alert-{alert_id}",
            AlertRaised(
                alert_id=alert_id,
                episode_id=episode_id,
                role=role,
                scope="child",
                level=level,
                contact=CONTACT,
                channels=["email", "sms"],
                escalate_at=raised_at + timedelta(minutes=30),
                raised_at=raised_at,
            ),
        )
        return alert_id

    async def close(self, alert_id: UUID) -> None:
        await self.append(
            f"alert-{alert_id}",
            AlertClosed(alert_id=alert_id, reason="found", closed_at=NOW),
        )

    async def events(self, alert_id: UUID, type_name: str = "") -> list[Envelope]:
        found = await self.store.read_stream(f"alert-{alert_id}")
        return [e for e in found if not type_name or e.type == type_name]

    async def delivery(self, alert_id: UUID) -> Any:
        query = select(deliveries).where(
            deliveries.c.alert_id == alert_id, deliveries.c.kind == "alert"
        )
        async with self.store.engine.connect() as conn:
            return (await conn.execute(query)).one()


@asynccontextmanager
async def serve_alerts_api(database_url: str) -> AsyncIterator[AlertsApi]:
    projectors: list[Projector] = [
        EpisodesProjector(),
        ChildrenProjector(),
        AlertsProjector(),
    ]
    store = SqlEventStore(create_engine(database_url), projectors=projectors)
    clients = ClientRegistry(store.engine)
    tokens = {
        "kent": await clients.create("kent", Role.police, "KENT"),
        "met": await clients.create("met", Role.police, "MET"),
        "cms": await clients.create("cms", Role.integrator, None),
        "oncall": await clients.create("oncall", Role.staff, None),
    }
    port = free_port()
    links = AckLinks(SECRET, f"http://127.0.0.1:{port}")
    container = Container(
        store=store,
        clients=clients,
        limiter=RateLimiter(100_000, burst=1000),
        auth_failures=RateLimiter(100_000, burst=100_000),
        children=ChildMatcher(store),
        links=links,
        notify_callback_token=CALLBACK_TOKEN,
        web=web_for(store.engine, WebSettings()),
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(container, routers()), port=port, log_config=None)
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, what="alerts API listening")
    try:
        async with httpx.AsyncClient(
            timeout=HTTP_TIMEOUT, base_url=f"http://127.0.0.1:{port}"
        ) as http:
            yield AlertsApi(http, store, tokens, links)
    finally:
        server.should_exit = True
        await task
        await store.close()


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[AlertsApi]:
    async with serve_alerts_api(database_url) as api:
        yield api


class TestListAlerts:
    async def test_staff_see_open_alerts_without_contact_details(self, api):
        episode_id = await api.report("KNT-42")
        alert_id = await api.raise_alert(episode_id, level="high")

        response = await api.get("/v1/alerts", params={"status": "open"})

        assert response.status_code == 200, response.text
        [item] = response.json()["items"]
        assert item["alert_id"] == str(alert_id)
        assert item["episode_id"] == str(episode_id)
        assert item["police_force"] == "KENT"
        assert item["police_reference"] == "KNT-42"
        assert (item["role"], item["level"], item["status"]) == (
            "social_worker",
            "high",
            "open",
        )
        assert response.json()["next_offset"] is None
        for private in (*PRIVATE, "contact", "recipient_id"):
            assert private not in response.text

    async def test_high_before_medium_and_paged(self, api):
        medium = await api.raise_alert(level="medium", raised_at=NOW)
        high = await api.raise_alert(level="high", raised_at=NOW + timedelta(minutes=1))
        later = await api.raise_alert(
            level="medium", raised_at=NOW + timedelta(hours=1)
        )

        first = (await api.get("/v1/alerts", params={"limit": 2})).json()
        rest = (await api.get("/v1/alerts", params={"limit": 2, "offset": 2})).json()

        assert [i["alert_id"] for i in first["items"]] == [str(high), str(medium)]
        assert first["next_offset"] == 2
        assert [i["alert_id"] for i in rest["items"]] == [str(later)]
        assert rest["next_offset"] is None

    async def test_only_the_status_asked_for(self, api):
        open_alert = await api.raise_alert()
        closed = await api.raise_alert()
        await api.close(closed)

        opened = (await api.get("/v1/alerts")).json()["items"]
        over = (await api.get("/v1/alerts", params={"status": "closed"})).json()

        assert [i["alert_id"] for i in opened] == [str(open_alert)]
        assert [i["alert_id"] for i in over["items"]] == [str(closed)]

    async def test_staff_see_the_councils_and_police_their_forces_teams(self, api):
        kent, met = await api.report(), await api.report(force="MET")
        council = await api.raise_alert(kent)
        kent_mcet = await api.raise_alert(kent, role="mcet")
        met_mcet = await api.raise_alert(met, role="mcet")

        async def listed(client: str) -> list[str]:
            response = await api.get("/v1/alerts", client=client)
            assert response.status_code == 200, response.text
            return [i["alert_id"] for i in response.json()["items"]]

        assert await listed("oncall") == [str(council)]
        assert await listed("kent") == [str(kent_mcet)]
        assert await listed("met") == [str(met_mcet)]

    async def test_integrators_forbidden_anonymous_unauthorised_bad_status(self, api):
        await api.raise_alert()

        assert (await api.get("/v1/alerts", client="cms")).status_code == 403
        assert (await api.http.get("/v1/alerts")).status_code == 401
        bogus = await api.get("/v1/alerts", params={"status": "bogus"})
        assert bogus.status_code == 422

    async def test_a_number_past_the_databases_integers_is_422(self, api):
        await api.raise_alert()
        largest = 1_000_000  # docs/notifier.md: offset 0-1,000,000

        beyond = await api.get("/v1/alerts", params={"offset": 2**63})
        past_cap = await api.get("/v1/alerts", params={"offset": largest + 1})
        last = await api.get("/v1/alerts", params={"offset": largest})

        assert (beyond.status_code, past_cap.status_code) == (422, 422)
        assert beyond.json()["detail"][0]["field"] == "offset"
        assert (last.status_code, last.json()["items"]) == (200, [])


class TestAcknowledge:
    async def test_staff_acknowledge_once(self, api):
        alert_id = await api.raise_alert()

        response = await api.post(f"/v1/alerts/{alert_id}/ack")

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "acknowledged"
        assert response.json()["acknowledged_at"] is not None
        last = (await api.events(alert_id))[-1]
        assert last.type == "AlertAcknowledged"
        assert last.actor == "client:oncall"
        assert last.data["via"] == "api"
        listed = (await api.get("/v1/alerts", params={"status": "acknowledged"})).json()
        assert [i["alert_id"] for i in listed["items"]] == [str(alert_id)]
        assert (await api.get("/v1/alerts")).json()["items"] == []

        again = await api.post(f"/v1/alerts/{alert_id}/ack")

        assert again.status_code == 200
        assert again.json()["status"] == "acknowledged"
        assert len(await api.events(alert_id, "AlertAcknowledged")) == 1

    async def test_a_bodyless_post_is_enough(self, api):
        """The endpoint takes no body: `curl -X POST -H 'Authorization: ...'`."""
        alert_id = await api.raise_alert()

        response = await api.http.post(
            f"/v1/alerts/{alert_id}/ack", headers=api.auth("oncall")
        )

        assert response.status_code == 200, response.text
        assert len(await api.events(alert_id, "AlertAcknowledged")) == 1

    async def test_unknown_alert_is_404(self, api):
        response = await api.post(f"/v1/alerts/{uuid4()}/ack")
        assert response.status_code == 404

    async def test_closed_alert_is_409(self, api):
        alert_id = await api.raise_alert()
        await api.close(alert_id)

        response = await api.post(f"/v1/alerts/{alert_id}/ack")

        assert response.status_code == 409
        assert await api.events(alert_id, "AlertAcknowledged") == []

    async def test_each_acknowledges_only_their_own(self, api):
        """Another's alert is a 404, as if it did not exist."""
        episode = await api.report()
        council = await api.raise_alert(episode)
        mcet = await api.raise_alert(episode, role="mcet")

        for alert_id, client in ((council, "kent"), (mcet, "oncall"), (mcet, "met")):
            response = await api.post(f"/v1/alerts/{alert_id}/ack", client=client)
            assert response.status_code == 404, client
        assert await api.events(council, "AlertAcknowledged") == []
        assert await api.events(mcet, "AlertAcknowledged") == []

        done = await api.post(f"/v1/alerts/{mcet}/ack", client="kent")

        assert done.status_code == 200, done.text
        [ack] = await api.events(mcet, "AlertAcknowledged")
        assert ack.actor == "client:kent"


async def press(api: AlertsApi, url: str) -> httpx.Response:
    """The page's button, as a browser submits a form with no inputs."""
    return await api.http.post(url, headers=AS_FORM)


class TestAckLink:
    async def link(
        self, api: AlertsApi, alert_id: UUID, *, sent: datetime | None = None
    ) -> tuple[str, str]:
        """The link in the alert's message, as the dispatcher signs it."""
        delivery_id = (await api.delivery(alert_id)).delivery_id
        sent = sent or datetime.now(UTC)
        return api.links.url(alert_id, delivery_id, now=sent), delivery_id

    async def test_opening_the_link_only_shows_a_button(self, api):
        alert_id = await api.raise_alert()
        url, _ = await self.link(api, alert_id)

        page = await api.http.get(url)

        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert '<form method="post"' in page.text
        assert f"/v1/alerts/{alert_id}/ack-link?" in page.text
        assert await api.events(alert_id, "AlertAcknowledged") == []

    async def test_pressing_the_button_acknowledges(self, api):
        alert_id = await api.raise_alert()
        url, delivery_id = await self.link(api, alert_id)

        done = await press(api, url)

        assert done.status_code == 200
        assert done.headers["content-type"].startswith("text/html")
        assert "Acknowledged" in done.text
        [ack] = await api.events(alert_id, "AlertAcknowledged")
        assert ack.actor == f"link:{delivery_id}"
        assert ack.data["via"] == "link"
        assert (await press(api, url)).status_code == 200
        assert len(await api.events(alert_id, "AlertAcknowledged")) == 1

    async def test_a_browser_form_post_acknowledges(self, api):
        """What a browser sends for the page's <form method=post>: no inputs, so an
        empty urlencoded body."""
        alert_id = await api.raise_alert()
        url, delivery_id = await self.link(api, alert_id)

        done = await api.http.post(url, content=b"", headers=AS_FORM)

        assert done.status_code == 200, done.text
        assert "Acknowledged" in done.text
        [ack] = await api.events(alert_id, "AlertAcknowledged")
        assert ack.actor == f"link:{delivery_id}"

    async def test_link_after_the_episode_is_over(self, api):
        alert_id = await api.raise_alert()
        url, _ = await self.link(api, alert_id)
        await api.close(alert_id)

        done = await press(api, url)

        assert done.status_code == 200
        assert "This episode is over" in done.text
        assert await api.events(alert_id, "AlertAcknowledged") == []

    @pytest.mark.parametrize("method", ["GET", "POST"])
    async def test_tampered_or_expired_links_are_refused(self, api, method):
        alert_id = await api.raise_alert()
        good, _ = await self.link(api, alert_id)
        flipped = "0" if good[-1] != "0" else "1"
        expired, _ = await self.link(
            api, alert_id, sent=datetime.now(UTC) - timedelta(days=8)
        )
        other_alert = good.replace(str(alert_id), str(await api.raise_alert()))

        for url in (good[:-1] + flipped, expired, other_alert):
            response = await api.http.request(method, url, headers=AS_FORM)
            assert response.status_code == 403, url
        assert await api.events(alert_id, "AlertAcknowledged") == []


async def sse_events(response: httpx.Response) -> AsyncIterator[dict[str, str]]:
    """Each server-sent event as its fields (id, event, data); comments skipped."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if "event" in fields:
                yield fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


async def first_event(
    events: AsyncIterator[dict[str, str]], type_name: str, alert_id: UUID
) -> dict[str, str]:
    """The next event of that type about that alert, skipping others."""
    async with asyncio.timeout(10):
        async for event in events:
            data = json.loads(event["data"])
            if event["event"] == type_name and data["alert_id"] == str(alert_id):
                return event
    raise AssertionError("the stream ended")


async def raised_until(events: AsyncIterator[dict[str, str]], last: UUID) -> list[str]:
    """The alerts whose AlertRaised the feed gives, up to ``last``."""
    seen: list[str] = []
    async with asyncio.timeout(10):
        async for event in events:
            if event["event"] == "AlertRaised":
                seen.append(json.loads(event["data"])["alert_id"])
                if seen[-1] == str(last):
                    return seen
    raise AssertionError("the stream ended")


class TestAlertStream:
    STREAM = "/v1/alerts/stream"

    def stream(self, api: AlertsApi, client: str = "oncall", **headers: str) -> Any:
        return api.http.stream(
            "GET",
            self.STREAM,
            headers={**api.auth(client), **headers},
            timeout=httpx.Timeout(10),
        )

    async def test_new_alerts_arrive_without_contact_details(self, api):
        async with self.stream(api) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            alert_id = await api.raise_alert()

            event = await first_event(sse_events(response), "AlertRaised", alert_id)

        [raised] = await api.events(alert_id, "AlertRaised")
        assert event["id"] == str(raised.position)
        data = json.loads(event["data"])
        assert data["alert_id"] == str(alert_id)
        assert "contact" not in data
        for private in PRIVATE:
            assert private not in event["data"]

    async def test_resumes_after_last_event_id(self, api):
        earlier = await api.raise_alert()
        await api.close(earlier)

        async with self.stream(api, **{"Last-Event-ID": "0"}) as response:
            assert response.status_code == 200
            events = sse_events(response)
            raised = await first_event(events, "AlertRaised", earlier)
            closed = await first_event(events, "AlertClosed", earlier)

        assert int(raised["id"]) < int(closed["id"])

    @pytest.mark.parametrize("last_event_id", [str(2**63), "-1", "1.0", "x", "10"])
    async def test_a_last_event_id_the_stream_never_sent_is_400(
        self, api, last_event_id
    ):
        """Beyond the log's head (10, in a log of two events) the stream would wait
        for ever: the client must hear it asked for something that is not there."""
        await api.raise_alert()

        async with self.stream(api, **{"Last-Event-ID": last_event_id}) as response:
            assert response.status_code == 400
            await response.aread()

        assert "Last-Event-ID" in response.json()["detail"]

    async def test_each_follows_only_their_own_alerts(self, api):
        kent, met = await api.report(), await api.report(force="MET")
        raised = {}
        for round_ in ("first", "last"):  # each feed is read up to its last
            raised["oncall", round_] = await api.raise_alert(kent)
            raised["kent", round_] = await api.raise_alert(kent, role="mcet")
            raised["met", round_] = await api.raise_alert(met, role="mcet")

        for client in ("oncall", "kent", "met"):
            async with self.stream(api, client, **{"Last-Event-ID": "0"}) as response:
                assert response.status_code == 200
                seen = await raised_until(sse_events(response), raised[client, "last"])
            assert seen == [str(raised[client, r]) for r in ("first", "last")], client

    async def test_integrators_forbidden_anonymous_unauthorised(self, api):
        integrator = await api.get(self.STREAM, client="cms")
        anonymous = await api.http.get(self.STREAM)
        assert (integrator.status_code, anonymous.status_code) == (403, 401)


class TestNotifyCallback:
    PATH = "/v1/callbacks/notify"

    async def sent(self, api: AlertsApi) -> tuple[UUID, str, str]:
        """An alert whose e-mail Notify accepted: its id, delivery and provider id."""
        alert_id = await api.raise_alert()
        delivery_id = (await api.delivery(alert_id)).delivery_id
        provider_id = str(uuid4())
        common = {"alert_id": alert_id, "delivery_id": delivery_id, "kind": "alert"}
        await api.append(
            f"alert-{alert_id}",
            AlertSendAttempted(
                **common,
                channel="email",
                attempt=1,
                attempted_at=NOW,
                lease_until=NOW + timedelta(minutes=1),
            ),
        )
        await api.append(
            f"alert-{alert_id}",
            AlertSent(
                **common,
                channel="email",
                attempt=1,
                provider_id=provider_id,
                accepted_at=NOW,
            ),
        )
        return alert_id, delivery_id, provider_id

    def receipt(self, provider_id: str, status: str = "delivered") -> dict[str, Any]:
        return {
            "id": provider_id,
            "reference": "ref",
            "to": CONTACT.email,
            "status": status,
            "notification_type": "email",
            "created_at": NOW.isoformat(),
            "completed_at": (NOW + timedelta(seconds=5)).isoformat(),
        }

    async def callback(
        self, api: AlertsApi, body: dict[str, Any] | str, token: str = CALLBACK_TOKEN
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", **AS_JSON}
        content = body if isinstance(body, str) else json.dumps(body)
        return await api.http.post(self.PATH, content=content, headers=headers)

    async def test_delivered_is_recorded_once(self, api):
        alert_id, delivery_id, provider_id = await self.sent(api)

        response = await self.callback(api, self.receipt(provider_id))

        assert response.status_code == 204, response.text
        [delivered] = await api.events(alert_id, "AlertDelivered")
        assert delivered.actor == "notify"
        assert delivered.data["delivery_id"] == delivery_id
        assert delivered.data["provider_id"] == provider_id
        assert delivered.data["channel"] == "email"
        assert (await api.delivery(alert_id)).status == "delivered"

        again = await self.callback(api, self.receipt(provider_id))

        assert again.status_code == 204
        assert len(await api.events(alert_id, "AlertDelivered")) == 1

    async def test_permanent_failure_moves_to_the_next_channel(self, api):
        alert_id, delivery_id, provider_id = await self.sent(api)

        response = await self.callback(
            api, self.receipt(provider_id, "permanent-failure")
        )

        assert response.status_code == 204, response.text
        [failed] = await api.events(alert_id, "AlertDeliveryFailed")
        assert failed.data["delivery_id"] == delivery_id
        assert failed.data["permanent"] is True
        assert failed.data["code"] == "notify_permanent-failure"
        row = await api.delivery(alert_id)
        assert (row.status, row.channels[row.channel_index]) == ("pending", "sms")

    async def test_unknown_notification_is_ignored(self, api):
        alert_id, _, _ = await self.sent(api)
        head = await api.store.head()

        response = await self.callback(api, self.receipt(str(uuid4())))

        assert response.status_code == 204
        assert await api.store.head() == head
        assert (await api.delivery(alert_id)).status == "sent"

    async def test_wrong_token_is_401(self, api):
        alert_id, _, provider_id = await self.sent(api)

        wrong = await self.callback(api, self.receipt(provider_id), token="nope")
        anonymous = await api.http.post(self.PATH, json=self.receipt(provider_id))

        assert (wrong.status_code, anonymous.status_code) == (401, 401)
        assert await api.events(alert_id, "AlertDelivered") == []

    async def test_malformed_receipt_is_422(self, api):
        alert_id, _, provider_id = await self.sent(api)
        no_status = {**self.receipt(provider_id), "status": "lost-in-post"}

        for body in ("not json", no_status, {"id": provider_id}):
            response = await self.callback(api, body)
            assert response.status_code == 422, body
            assert EMAIL not in response.text
        assert await api.events(alert_id, "AlertDelivered") == []
