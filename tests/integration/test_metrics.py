"""``/metrics`` on the API, on SQLite and PostgreSQL: a police report moves the
counters by what it did, the route is its template, and no child's name or id reaches
a scrape; the lag gauges say what the store says."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from events import relay
from events.envelope import Envelope
from events.relay import KafkaRelay
from events.store import Checkpoint, Commit, Parking
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from events.subscriptions import Output, Subscriber
from events.subscriptions.kafka import KafkaSubscription
from events.subscriptions.metrics import relay_probe, subscription_probe
from tests.api import Api, a_report_body, serve_api
from tests.builders import a_stream, happened
from tests.integration.test_subscriptions import _running
from tests.scrape import value
from tests.waiting import eventually


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with serve_api(database_url) as api:
        yield api


async def scrape(api: Api) -> str:
    response = await api.http.get("/metrics")  # no credentials: none are needed
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def types_in_store(store: SqlEventStore) -> Counter[str]:
    return Counter(e.type for e in await store.read_all(limit=100_000))


async def test_one_report_moves_the_counters_by_what_it_did(api: Api):
    before, stored_before = await scrape(api), await types_in_store(api.store)

    response = await api.post("/v1/missing-reports", a_report_body("KNT-M1"))
    assert response.status_code == 202
    again = await api.post("/v1/missing-reports", a_report_body("KNT-M1"))
    assert again.status_code == 200  # the same report: nothing appended

    after = await scrape(api)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    appended = (await types_in_store(api.store)) - stored_before
    assert appended["MissingReported"] == 1
    for kind, n in appended.items():  # every type, by the store's own count
        assert moved("lantern_events_appended_total", type=kind) == n, kind
    route = {"route": "/v1/missing-reports", "method": "POST"}
    assert moved("lantern_http_requests_total", **route, status="202") == 1
    assert moved("lantern_http_requests_total", **route, status="200") == 1
    assert moved("lantern_http_request_duration_seconds_count", **route) == 2


async def test_routes_are_templates_and_a_scrape_carries_no_personal_data(api: Api):
    planted = {"given_name": "Zephyrine", "family_name": "Quillfeather"}
    child = {**a_report_body()["child"], **planted, "la_child_id": "LAC98765X"}
    body = a_report_body("KNT-PLANTED-77", child=child)
    response = await api.post("/v1/missing-reports", body)
    assert response.status_code == 202
    episode_id = response.json()["episode_id"]
    assert (await api.get(f"/v1/episodes/{episode_id}")).status_code == 200
    missing = await api.get("/v1/children/LAC98765X/Zephyrine/no-such-route")
    assert missing.status_code == 404

    text = await scrape(api)

    for secret in [*planted.values(), "LAC98765X", "KNT-PLANTED-77", episode_id]:
        assert secret not in text
    template = {"route": "/v1/episodes/{episode_id}", "method": "GET"}
    assert value(text, "lantern_http_requests_total", **template, status="200") >= 1
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert value(text, "lantern_http_requests_total", **unmatched) >= 1


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def test_lag_gauges_restate_the_store(store: SqlEventStore):
    """Head minus checkpoint, the age of the first event after it, the parked."""
    await store.append(a_stream(), [happened(n) for n in range(3)], expected_version=0)
    head = await store.head()
    refresh = subscription_probe(store, ["metrics-test"], store_fed=True)
    relay = relay_probe(store, "metrics-relay")
    await refresh()
    await relay()

    lag = {"subscription": "metrics-test"}
    assert gauge("lantern_subscription_lag_events", **lag) == head
    assert (gauge("lantern_subscription_lag_seconds", **lag) or 0) > 0
    assert gauge("lantern_relay_lag_events") == head
    assert gauge("lantern_subscription_parked", **lag) == 0

    [first, *_] = await store.read_all()
    parking = Parking("metrics-test", first, "store", first.position, 5, "Boom")
    await store.commit(
        Commit(checkpoint=Checkpoint("metrics-test", "store", head), park=parking)
    )
    await refresh()

    assert gauge("lantern_subscription_lag_events", **lag) == 0
    assert gauge("lantern_subscription_lag_seconds", **lag) == 0
    assert gauge("lantern_subscription_parked", **lag) == 1


async def test_a_kafka_subscription_reports_the_records_it_has_not_handled(
    pg_database: str, kafka_servers: str, topic_prefix: str
):
    """Its checkpoints are partition offsets: the lag is the high watermark minus
    them, and the age of the oldest record it holds unhandled."""
    store = SqlEventStore(create_engine(pg_database))
    for stream in [a_stream() for _ in range(6)]:
        await store.append(stream, [happened(1)], expected_version=0)
    publisher = KafkaRelay(
        store, bootstrap_servers=kafka_servers, topic_prefix=topic_prefix, partitions=3
    )
    head = await store.head()
    gate, started = asyncio.Event(), asyncio.Event()

    async def held(envelope: Envelope) -> list[Output]:
        started.set()
        await gate.wait()
        return []

    name = "metrics-kafka"
    worker = KafkaSubscription(
        store,
        Subscriber(name, {"TestHappened": [held]}),
        bootstrap_servers=kafka_servers,
        topic_prefix=topic_prefix,
        group_prefix=topic_prefix,
    )
    lag = {"subscription": name}

    def lag_is(n: int) -> bool:
        return gauge("lantern_subscription_lag_events", **lag) == n

    try:
        async with _running(publisher):
            await eventually(
                lambda: _published(store, head), timeout=30, what="on Kafka"
            )
        async with _running(worker):
            try:
                await eventually(started.is_set, timeout=30, what="a record in hand")
                await eventually(lambda: lag_is(6), timeout=10, what="lag of 6")
                assert (gauge("lantern_subscription_lag_seconds", **lag) or 0) > 0
            finally:
                gate.set()
            await eventually(lambda: lag_is(0), timeout=10, what="caught up")
            assert gauge("lantern_subscription_lag_seconds", **lag) == 0
    finally:
        await store.close()


async def _published(store: SqlEventStore, head: int) -> bool:
    return await store.checkpoint(relay.NAME, relay.PARTITION) >= head
