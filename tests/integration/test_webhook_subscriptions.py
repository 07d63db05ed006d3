"""Webhook subscriptions end to end: the API, the delivery worker, and real HTTP
receivers on 127.0.0.1 that verify every signature.

Each test runs on SQLite and PostgreSQL. Nothing sleeps: the tests wait on what the
receiver got, with deadlines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import uvicorn
from sqlalchemy import func, select

from events.contracts.alerts import AlertContact, AlertRaised
from events.envelope import NewEvent
from events.store import Append, Commit
from events.store.tables import events
from services.api.auth import Role
from services.outbound import outbound_client
from services.webhooks.delivery import Deliveries
from services.webhooks.rules import CONTENT_TYPE
from services.webhooks.settings import WebhooksSettings
from services.webhooks.tables import webhook_subscriptions
from tests.api import Api, a_report_body, serve_api
from tests.channel_servers import WEBHOOK_SECRET, Receiver
from tests.e2e.processes import free_port
from tests.waiting import eventually

pytestmark = pytest.mark.postgres_only

FAST = WebhooksSettings(
    webhooks_timeout_s=0.5,
    webhooks_retry_first_s=0.05,
    webhooks_retry_max_s=0.2,
    webhooks_poll_s=0.1,
)
NOW = datetime.now(UTC).replace(microsecond=0)


@asynccontextmanager
async def serve_on(app: Any, port: int) -> AsyncIterator[str]:
    """``app`` on 127.0.0.1:``port`` until the block ends (a receiver that can go
    down and come back on the same address)."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started or task.done(), what="receiver up")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with serve_api(database_url) as api:
        yield api


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver()
    async with serve_on(receiver.app(), free_port()) as root:
        try:
            yield receiver, root
        finally:
            receiver.release.set()


class Worker:
    """The delivery worker as a task: started, stopped, or killed mid-delivery."""

    def __init__(self, api: Api, settings: WebhooksSettings = FAST) -> None:
        self.api = api
        self.settings = settings
        self.task: asyncio.Task[None] | None = None
        self.stop = asyncio.Event()

    async def start(self) -> None:
        self.client = outbound_client()
        self.deliveries = Deliveries(
            self.settings, self.api.store, self.client, frozenset({"127.0.0.1"})
        )
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.deliveries.run(self.stop))

    async def halt(self, *, kill: bool = False) -> None:
        assert self.task is not None
        if kill:  # a crash: nothing finishes
            self.task.cancel()
        self.stop.set()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.client.aclose()


@pytest.fixture
async def worker(api: Api) -> AsyncIterator[Worker]:
    w = Worker(api)
    yield w
    if w.task is not None and not w.task.done():
        await w.halt(kill=True)


async def subscribe(
    api: Api, url: str, types: list[str] | None = None, client: str = "cms"
) -> dict[str, Any]:
    body = {"url": url, "event_types": types or ["MissingReported"],
            "secret": WEBHOOK_SECRET}  # fmt: skip
    response = await api.http.post(
        "/v1/subscriptions", json=body, headers=api.auth(client)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def report(api: Api, reference: str) -> None:
    response = await api.post("/v1/missing-reports", a_report_body(reference))
    assert response.status_code == 202, response.text


def events_of(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(body) for _, _, body in receiver.received]


def references(receiver: Receiver) -> list[str]:
    return [e["data"]["police_reference"] for e in events_of(receiver)]


async def position_of(api: Api, subscription_id: str) -> int:
    async with api.store.engine.connect() as conn:
        position = await conn.scalar(
            select(webhook_subscriptions.c.position).where(
                webhook_subscriptions.c.subscription_id == UUID(subscription_id)
            )
        )
    assert position is not None
    return int(position)


# --- the API -------------------------------------------------------------------


async def test_a_subscription_never_shows_its_secret_and_is_its_owners(api: Api):
    made = await subscribe(api, "http://127.0.0.1:9/hooks/a")
    assert "secret" not in made and WEBHOOK_SECRET not in json.dumps(made)
    other = await api.clients.create("partner", Role.integrator, None)
    theirs = {"Authorization": f"Bearer {other}"}
    path = f"/v1/subscriptions/{made['subscription_id']}"
    for method, body in (("GET", None), ("PATCH", {"paused": True}),
                         ("DELETE", None)):  # fmt: skip
        response = await api.http.request(method, path, json=body, headers=theirs)
        assert response.status_code == 404, (method, response.text)
    replay = await api.http.post(
        f"{path}/replay", json={"from_position": 1}, headers=theirs
    )
    assert replay.status_code == 404
    listed = await api.http.get("/v1/subscriptions", headers=theirs)
    assert listed.json() == {"items": []}
    mine = await api.http.get("/v1/subscriptions", headers=api.auth("cms"))
    assert [s["subscription_id"] for s in mine.json()["items"]] == [
        made["subscription_id"]
    ]
    assert WEBHOOK_SECRET not in mine.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_types": ["NoSuchEvent"]}, "event_types"),
        ({"event_types": ["ReturnInterviewNotesRecorded"]}, "event_types"),
        ({"event_types": ["RecipientRecorded"]}, "event_types"),
        ({"url": "http://lantern.example/hook"}, "url"),
        ({"url": "https://10.0.0.1/hook"}, "url"),
        ({"secret": "too-short"}, "secret"),
    ],
)
async def test_a_bad_subscription_is_422_naming_the_field(
    api: Api, change: dict[str, Any], field: str
):
    body = {"url": "https://partner.example/hook", "event_types": ["MissingReported"],
            "secret": WEBHOOK_SECRET} | change  # fmt: skip
    response = await api.http.post(
        "/v1/subscriptions", json=body, headers=api.auth("cms")
    )
    assert response.status_code == 422, response.text
    assert [p["field"] for p in response.json()["detail"]] == [field]
    assert "too-short" not in response.text


# --- delivery ------------------------------------------------------------------


async def test_events_arrive_in_order_signed_as_cloudevents(
    api: Api, receiver: tuple[Receiver, str], worker: Worker
):
    inbox, root = receiver
    made = await subscribe(api, f"{root}/hooks/cms")
    for n in range(5):
        await report(api, f"KNT-O{n}")
    await worker.start()
    await eventually(lambda: len(inbox.received) >= 5, what="five delivered")
    assert references(inbox) == [f"KNT-O{n}" for n in range(5)]
    for valid, headers, _ in inbox.received:
        assert valid
        assert headers["content-type"] == CONTENT_TYPE
        assert headers["lantern-key-id"] == made["subscription_id"]
    first = events_of(inbox)[0]
    assert first["specversion"] == "1.0" and first["type"] == "MissingReported"
    assert {"id", "source", "time", "subject", "data"} <= set(first)
    assert inbox.received[0][1]["idempotency-key"] == first["id"]
    positions = [e["position"] for e in events_of(inbox)]
    assert positions == sorted(positions)
    await eventually(
        lambda: _at(api, made["subscription_id"], positions[-1]), what="checkpoint"
    )


async def _at(api: Api, sid: str, position: int) -> bool:
    return await position_of(api, sid) >= position


async def test_nobody_gets_contact_details(
    api: Api, receiver: tuple[Receiver, str], worker: Worker
):
    inbox, root = receiver
    await subscribe(api, f"{root}/hooks/cms", ["AlertRaised"])
    alert_id = uuid4()
    raised = AlertRaised(
        alert_id=alert_id, episode_id=uuid4(), role="social_worker", scope="full",
        level="high", contact=AlertContact(recipient_id="sw-1",
                                           email="someone@council.example"),
        channels=["email"], escalate_at=NOW + timedelta(minutes=15), raised_at=NOW,
    )  # fmt: skip
    await api.store.commit(
        Commit([Append(f"alert-{alert_id}", [NewEvent(event=raised)])])
    )
    await worker.start()
    await eventually(lambda: inbox.received, what="the alert delivered")
    _, _, body = inbox.received[0]
    assert b"someone@council.example" not in body
    assert "contact" not in json.loads(body)["data"]
    assert json.loads(body)["data"]["alert_id"] == str(alert_id)


async def test_a_5xx_is_retried_and_nothing_skipped(
    api: Api, receiver: tuple[Receiver, str], worker: Worker
):
    inbox, root = receiver
    inbox.status = 503
    made = await subscribe(api, f"{root}/hooks/cms")
    await report(api, "KNT-R1")
    await report(api, "KNT-R2")
    await worker.start()
    await eventually(lambda: len(inbox.received) >= 3, what="three attempts")
    assert set(references(inbox)) == {"KNT-R1"}  # the second waits its turn
    shown = await api.http.get(
        f"/v1/subscriptions/{made['subscription_id']}", headers=api.auth("cms")
    )
    assert shown.json()["last_error"] == "http_503"
    assert shown.json()["failing_since"] is not None
    inbox.status = 204
    await eventually(lambda: "KNT-R2" in references(inbox), what="then the second")
    got = references(inbox)
    assert got[-2:] == ["KNT-R1", "KNT-R2"]
    assert len({e["id"] for e in events_of(inbox) if e["data"]["police_reference"]
                == "KNT-R1"}) == 1  # fmt: skip
    await eventually(lambda: _recovered(api, made["subscription_id"]))


async def _recovered(api: Api, sid: str) -> bool:
    shown = await api.http.get(f"/v1/subscriptions/{sid}", headers=api.auth("cms"))
    return bool(shown.json()["failing_since"] is None)


async def test_a_timeout_is_retried(
    api: Api, receiver: tuple[Receiver, str], worker: Worker
):
    inbox, root = receiver
    inbox.hang = True  # answers nothing, until released at the end
    await subscribe(api, f"{root}/hooks/cms")
    await report(api, "KNT-T1")
    await worker.start()
    await eventually(lambda: inbox.received, what="the first attempt")
    inbox.hang = False
    await eventually(lambda: len(inbox.received) >= 2, what="a retry after it")
    assert references(inbox)[:2] == ["KNT-T1", "KNT-T1"]
    ids = {e["id"] for e in events_of(inbox)}
    assert len(ids) == 1


async def test_a_receiver_down_for_a_while_loses_nothing(api: Api, worker: Worker):
    inbox, port = Receiver(), free_port()
    made = await subscribe(api, f"http://127.0.0.1:{port}/hooks/cms")
    await report(api, "KNT-D1")
    async with serve_on(inbox.app(), port):
        await worker.start()
        await eventually(lambda: inbox.received, what="delivered while up")
    await report(api, "KNT-D2")
    await report(api, "KNT-D3")
    await eventually(
        lambda: _failing(api, made["subscription_id"]), what="refused while down"
    )
    async with serve_on(inbox.app(), port):
        await eventually(lambda: len(inbox.received) >= 3, what="the rest, back up")
    assert references(inbox) == ["KNT-D1", "KNT-D2", "KNT-D3"]


async def test_a_failing_subscription_paused_by_its_owner_is_not_retried(
    api: Api, receiver: tuple[Receiver, str]
):
    inbox, root = receiver
    inbox.status = 503
    made = await subscribe(api, f"{root}/hooks/cms")
    await report(api, "KNT-S1")
    async with outbound_client() as client:  # rounds one by one, no worker task
        deliveries = Deliveries(FAST, api.store, client, frozenset({"127.0.0.1"}))
        assert await deliveries.round(asyncio.Event()) <= FAST.webhooks_retry_max_s
        assert len(inbox.received) == 1
        path = f"/v1/subscriptions/{made['subscription_id']}"
        await api.http.patch(path, json={"paused": True}, headers=api.auth("cms"))
        wait = await deliveries.round(asyncio.Event())
    assert wait == pytest.approx(FAST.webhooks_poll_s)  # no retry due: no busy loop
    assert len(inbox.received) == 1


async def _failing(api: Api, sid: str) -> bool:
    shown = await api.http.get(f"/v1/subscriptions/{sid}", headers=api.auth("cms"))
    return shown.json()["failing_since"] is not None


async def test_replay_from_a_position_resends_history(
    api: Api, receiver: tuple[Receiver, str], worker: Worker
):
    inbox, root = receiver
    made = await subscribe(api, f"{root}/hooks/cms")
    for n in range(3):
        await report(api, f"KNT-P{n}")
    await worker.start()
    await eventually(lambda: len(inbox.received) >= 3, what="the three")
    second = events_of(inbox)[1]
    replay = await api.http.post(
        f"/v1/subscriptions/{made['subscription_id']}/replay",
        json={"from_position": second["position"]},
        headers=api.auth("cms"),
    )
    assert replay.status_code == 200, replay.text
    await eventually(lambda: len(inbox.received) >= 5, what="resent from there")
    assert references(inbox) == ["KNT-P0", "KNT-P1", "KNT-P2", "KNT-P1", "KNT-P2"]
    assert events_of(inbox)[3]["id"] == second["id"]


async def test_replay_from_a_time_before_the_subscription(
    api: Api, receiver: tuple[Receiver, str], worker: Worker
):
    inbox, root = receiver
    await report(api, "KNT-H1")  # before the subscription: not sent unasked
    made = await subscribe(api, f"{root}/hooks/cms")
    replay = await api.http.post(
        f"/v1/subscriptions/{made['subscription_id']}/replay",
        json={"from_time": "2000-01-01T00:00:00Z"},
        headers=api.auth("cms"),
    )
    assert replay.json()["position"] == 0
    await worker.start()
    await eventually(lambda: inbox.received, what="history")
    assert references(inbox) == ["KNT-H1"]


async def test_a_crash_mid_delivery_sends_the_event_again_with_its_id(
    api: Api, receiver: tuple[Receiver, str], worker: Worker
):
    inbox, root = receiver
    inbox.hang = True  # the POST arrives; the answer never leaves before the crash
    made = await subscribe(api, f"{root}/hooks/cms")
    before = await position_of(api, made["subscription_id"])
    await report(api, "KNT-C1")
    await worker.start()
    await eventually(lambda: inbox.received, what="the POST in flight")
    await worker.halt(kill=True)
    assert await position_of(api, made["subscription_id"]) == before
    inbox.hang = False
    inbox.release.set()
    await worker.start()
    await eventually(lambda: len(inbox.received) >= 2, what="sent again")
    first, again = events_of(inbox)[:2]
    assert first["id"] == again["id"] and again["data"]["police_reference"] == "KNT-C1"
    await eventually(lambda: _at(api, made["subscription_id"], again["position"]))


async def test_paused_sends_nothing_until_resumed(
    api: Api, receiver: tuple[Receiver, str], worker: Worker
):
    inbox, root = receiver
    made = await subscribe(api, f"{root}/hooks/cms")
    path = f"/v1/subscriptions/{made['subscription_id']}"
    paused = await api.http.patch(path, json={"paused": True}, headers=api.auth("cms"))
    assert paused.json()["paused"] is True
    await report(api, "KNT-Z1")
    await worker.start()
    await worker.deliveries.round(asyncio.Event())  # a whole round: nothing due
    assert inbox.received == []
    resumed = await api.http.patch(
        path, json={"paused": False}, headers=api.auth("cms")
    )
    assert resumed.json()["paused"] is False
    await eventually(lambda: inbox.received, what="delivered once resumed")
    assert references(inbox) == ["KNT-Z1"]


async def test_failing_too_long_pauses_it_and_says_why(
    api: Api, receiver: tuple[Receiver, str]
):
    inbox, root = receiver
    inbox.status = 500
    settings = FAST.model_copy(update={"webhooks_pause_after_s": 0.001})
    worker = Worker(api, settings)
    made = await subscribe(api, f"{root}/hooks/cms")
    await report(api, "KNT-F1")
    await worker.start()
    try:
        shown = await eventually(
            lambda: _paused(api, made["subscription_id"]), what="paused"
        )
    finally:
        await worker.halt()
    assert shown["paused_reason"].startswith("failing since")
    assert shown["last_error"] == "http_500"
    recorded = await api.store.read_stream(f"subscription-{made['subscription_id']}")
    assert [e.type for e in recorded] == ["WebhookSubscriptionPaused"]
    assert recorded[0].data["last_error"] == "http_500"
    assert recorded[0].data["reason"] == shown["paused_reason"]


async def _paused(api: Api, sid: str) -> dict[str, Any] | None:
    shown = await api.http.get(f"/v1/subscriptions/{sid}", headers=api.auth("cms"))
    return dict(shown.json()) if shown.json()["paused"] else None


async def test_a_partner_council_gets_only_its_own_childrens_events(
    api: Api, receiver: tuple[Receiver, str], worker: Worker
):
    inbox, root = receiver
    body = {"url": f"{root}/hooks/medway", "secret": WEBHOOK_SECRET,
            "event_types": ["MissingReported", "AlertRaised"],
            "placing_authority": "887"}  # fmt: skip
    made = await api.http.post("/v1/subscriptions", json=body, headers=api.auth("cms"))
    assert made.status_code == 201, made.text
    assert made.json()["placing_authority"] == "887"
    await report(api, "KNT-K1")  # placed by Kent (886)
    medway = a_report_body("KNT-M1")
    medway["placement"]["placing_authority"] = "887"
    placed = await api.post("/v1/missing-reports", medway)
    assert placed.status_code == 202, placed.text
    for episode in (UUID(placed.json()["episode_id"]), uuid4()):
        alert_id = uuid4()
        raised = AlertRaised(
            alert_id=alert_id, episode_id=episode, role="home_authority",
            scope="full", level="high", contact=AlertContact(recipient_id="la-887"),
            channels=["email"], escalate_at=NOW, raised_at=NOW,
        )  # fmt: skip
        await api.store.commit(
            Commit([Append(f"alert-{alert_id}", [NewEvent(event=raised)])])
        )
    await report(api, "KNT-K2")
    async with api.store.engine.connect() as conn:
        last = await conn.scalar(select(func.max(events.c.position)))
    await worker.start()
    await eventually(
        lambda: _at(api, made.json()["subscription_id"], last), what="through all"
    )
    got = events_of(inbox)
    assert [e["type"] for e in got] == ["MissingReported", "AlertRaised"]
    assert got[0]["data"]["police_reference"] == "KNT-M1"
    assert got[1]["data"]["episode_id"] == placed.json()["episode_id"]


async def test_an_unknown_placing_authority_is_422(api: Api):
    body = {"url": "https://partner.example/hook", "secret": WEBHOOK_SECRET,
            "event_types": ["MissingReported"], "placing_authority": "999"}  # fmt: skip
    response = await api.http.post(
        "/v1/subscriptions", json=body, headers=api.auth("cms")
    )
    assert response.status_code == 422
    assert [p["field"] for p in response.json()["detail"]] == ["placing_authority"]
