"""The episode page (GET /episodes/{id}): its summary, the current risk explained,
and its timeline — every event about the episode in order, from the episode's,
its alerts' and its return interview's streams, each with who or what caused it.
The whole chain runs (tests/integration/test_follow_ups.py ``a_rig``): the police
API, triage, the notifier with a real SMTP inbox, returns."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any
from uuid import UUID

from events.contracts.alerts import AlertAcknowledged
from events.envelope import NewEvent, utcnow
from events.store import Append, Commit
from services.notifier.tables import alerts
from tests.integration.test_follow_ups import NOW, SOCIAL_WORKER, Rig, a_rig

ROLES = {
    "social_worker": "social worker",
    "team": "child's team",
    "mcet": "police exploitation team (MCET)",
}
ITEM = re.compile(
    r'<li class="lantern-timeline__item">.*?'
    r'lantern-timeline__what"><strong>(?P<what>.*?)</strong>.*?'
    r'lantern-timeline__who">By: (?P<who>.*?)</p>',
    re.S,
)


def timeline(page: str) -> list[tuple[str, str]]:
    return [
        (html.unescape(m["what"]), html.unescape(m["who"])) for m in ITEM.finditer(page)
    ]


async def alerts_of(rig: Rig, episode: str) -> list[Any]:
    """Every alert of the episode, the police team's too (the notifier's table)."""
    query = alerts.select().where(alerts.c.episode_id == UUID(episode))
    return list(await rig.api.store.select(query))


async def acknowledge_as(rig: Rig, alert_id: UUID, person_id: UUID) -> None:
    """As a signed-in person acknowledges on the staff's pages: the event with
    the person as its actor (the Now page records it so)."""
    stream = f"alert-{alert_id}"
    version = len(await rig.api.store.read_stream(stream))
    new = NewEvent(
        event=AlertAcknowledged(alert_id=alert_id, acknowledged_at=utcnow(), via="api"),
        actor=f"person:{person_id}",
    )
    await rig.api.store.commit(Commit([Append(stream, [new], version)]))


async def test_the_timeline_in_order_with_who_did_each(database_url):
    async with a_rig(database_url) as rig:
        episode = await rig.episode(NOW - timedelta(hours=3))
        await rig.settled()  # assessed, alerted, each message sent
        raised = await alerts_of(rig, episode)
        assert {a.role for a in raised} >= {"social_worker", "team"}
        staff = await rig.api.person("staff", name="Jo Okafor")
        social_worker = next(a for a in raised if a.role == "social_worker")
        await acknowledge_as(rig, social_worker.alert_id, staff.person_id)
        await rig.found(episode, NOW - timedelta(hours=1))
        await rig.interview(episode)
        returned = NOW - timedelta(hours=1)
        await rig.record(episode, {
            "offered": True, "offered_by": "independent_provider", "accepted": True,
            "offered_at": (returned + timedelta(minutes=20)).isoformat(),
            "completed_at": (returned + timedelta(minutes=40)).isoformat(),
        })  # fmt: skip
        await rig.settled()

        response = await staff.http.get(f"/episodes/{episode}")
        assert response.status_code == 200
        page = response.text
        got = timeline(page)

        # Restated: one row per event of the episode's stream, per alert event
        # but the attempt recorded before each send, per interview event.
        store = rig.api.store
        sent_messages = 0
        expected = len(await store.read_stream(f"episode-{episode}"))
        expected += len(await store.read_stream(f"interview-{episode}"))
        for alert in raised:
            for e in await store.read_stream(f"alert-{alert.alert_id}"):
                expected += e.type != "AlertSendAttempted"
                sent_messages += e.type == "AlertSent"
        assert len(got) == expected
        whats = [what for what, _ in got]

        def first(prefix: str) -> int:
            return next(i for i, w in enumerate(whats) if w.startswith(prefix))

        assert got[0] == ("Reported missing by Kent Police", "kent (API client)")
        assessed = first("Risk assessed: ")
        assert got[assessed][1] == "Lantern"
        assert re.fullmatch(r"Risk assessed: \w+ \(\d+ factors?\)", whats[assessed])
        sends = [i for i, w in enumerate(whats) if " sent to the " in w]
        assert len(sends) == sent_messages >= len(raised)
        for alert in raised:
            role = ROLES[alert.role]
            raised_at = whats.index(
                next(w for w in whats if w.startswith("Alert raised for the " + role))
            )
            sent = first(f"Alert sent to the {role} by ")
            assert assessed < raised_at < sent
        [acked] = [i for i, w in enumerate(whats) if w.startswith("Acknowledged")]
        assert got[acked] == (
            "Acknowledged: the alert to the social worker",
            "Jo Okafor",
        )
        back = whats.index("Returned")
        assert got[back][1] == "kent (API client)"
        alerts_sent = [i for i in sends if whats[i].startswith("Alert sent")]
        closing = [i for i in sends if whats[i].startswith("Closing note sent")]
        assert len(alerts_sent) == len(closing) == len(raised)
        assert max(alerts_sent) < acked < back < min(closing)
        due = whats.index("Return interview due")
        offered = whats.index("Return interview offered")
        completed = whats.index("Return interview completed")
        assert back < due < offered < completed
        assert got[offered][1] == "oncall (API client)"

        # The summary, and the current risk explained.
        assert "Sam Taylor" in page and "14 May 2011" in page
        assert "Kent (886)" in page and "reference KNT-" in page
        assert "The current risk" in page and "Not assessed yet" not in page
        # Least data: no recipient's address, nor any e-mail address at all.
        assert SOCIAL_WORKER not in page and "@" not in page
        # No name in the title.
        assert re.search(r"<title>\s*Episode \u2013 Lantern\s*</title>", page)


async def test_an_unknown_episode_is_a_404_page(database_url):
    async with a_rig(database_url) as rig:
        staff = await rig.api.person("staff")
        response = await staff.http.get(f"/episodes/{UUID(int=7)}")
        assert response.status_code == 404
        assert "There is no such episode" in response.text


async def test_only_staff_see_an_episode(database_url):
    async with a_rig(database_url) as rig:
        analyst = await rig.api.person("analyst")
        episode = await rig.episode(NOW - timedelta(hours=3))
        response = await analyst.http.get(f"/episodes/{episode}")
        assert response.status_code == 403
        assert "Sam" not in response.text
