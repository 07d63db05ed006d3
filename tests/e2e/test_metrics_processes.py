"""``/metrics`` from the real `lantern` command: the embedded default after a police
report is alerted (SQLite), and a worker process's ops listener
(``LANTERN_OPS_PORT``): health, readiness and its own lag (PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import func, select

from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from services.notifier.tables import alerts
from services.triage.sources import SourceName
from tests.builders import a_stream, happened
from tests.channel_servers import WEBHOOK_SECRET, Receiver
from tests.e2e.processes import free_port, lantern, log_of, terminate, until_healthy
from tests.e2e.test_processes import ADA_REPORT, _police_client_and_duty_team
from tests.notify_server import serve_app
from tests.scrape import value
from tests.waiting import eventually


async def _appended(database_url: str, n: int) -> int:
    """``n`` events no service handles; the store's head after them."""
    store = SqlEventStore(create_engine(database_url))
    try:
        await store.append(
            a_stream(), [happened(i) for i in range(n)], expected_version=0
        )
        return await store.head()
    finally:
        await store.close()


def _env(database_url: str, port: int) -> dict[str, str]:
    return {
        "LANTERN_DATABASE_URL": database_url,
        "LANTERN_OPS_PORT": str(port),
        "LANTERN_METRICS_REFRESH_S": "0.2",
    }


async def _scrape(base: str) -> str:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{base}/metrics")
    assert response.status_code == 200
    return response.text


async def test_a_worker_serves_ready_and_its_subscription_lag(pg_database: str):
    head = await _appended(pg_database, 5)
    port = free_port()
    process = lantern("triage", env=_env(pg_database, port))
    base = f"http://127.0.0.1:{port}"
    caught_up = 'lantern_subscription_lag_events{subscription="triage"} 0.0'
    try:
        await until_healthy(base)
        async with httpx.AsyncClient() as client:
            ready = await client.get(f"{base}/ready")
        text = await eventually(
            lambda: _until(base, caught_up), what="triage caught up, scraped"
        )
        store = SqlEventStore(create_engine(pg_database))
        try:
            checkpoint = await store.checkpoint("triage", "store")
        finally:
            await store.close()
    finally:
        code = await asyncio.to_thread(terminate, process)

    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["workers"] is True
    assert checkpoint == head  # what the gauge's 0 says: head minus checkpoint
    assert 'lantern_subscription_lag_seconds{subscription="triage"} 0.0' in text
    assert 'lantern_subscription_parked{subscription="triage"} 0.0' in text
    assert code == 0, log_of(process)


async def test_a_relay_that_cannot_publish_shows_its_lag(pg_database: str):
    head = await _appended(pg_database, 4)
    port, dead_broker = free_port(), free_port()
    env = {
        **_env(pg_database, port),
        "LANTERN_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{dead_broker}",
    }
    process = lantern("relay", env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        await until_healthy(base)
        text = await eventually(
            lambda: _until(base, "lantern_relay_lag_events "), what="relay lag"
        )
    finally:
        code = await asyncio.to_thread(terminate, process)

    assert value(text, "lantern_relay_lag_events") == head
    assert value(text, "lantern_relay_lag_seconds") > 0
    assert code == 0, log_of(process)


async def _until(base: str, line: str) -> str | None:
    text = await _scrape(base)
    return text if line in text else None


async def test_a_report_alerted_on_the_embedded_default_shows_in_metrics(
    tmp_path: Path,
):
    hooks = Receiver()
    port = free_port()
    database = f"sqlite+aiosqlite:///{tmp_path}/lantern.db"
    env = {
        "LANTERN_DATABASE_URL": database,
        "LANTERN_PORT": str(port),
        "LANTERN_METRICS_REFRESH_S": "0.2",
        "LANTERN_OPS_PORT": str(free_port()),  # ignored: the API's port serves it
        "LANTERN_CHANNELS__WEBHOOK__SECRET": WEBHOOK_SECRET,
        "LANTERN_CHANNELS__WEBHOOK__ALLOWED_HOSTS": "127.0.0.1",
    }
    base = f"http://127.0.0.1:{port}"
    async with serve_app(hooks.app()) as hooks_root:
        token = _police_client_and_duty_team(env, tmp_path, f"{hooks_root}/hooks")
        process = lantern("run", env=env)
        try:
            await until_healthy(base)
            async with httpx.AsyncClient(base_url=base) as http:
                posted = await http.post(
                    "/v1/missing-reports",
                    json=ADA_REPORT,
                    headers={"Authorization": f"Bearer {token}"},
                )
            assert posted.status_code == 202, posted.text
            await eventually(lambda: hooks.received, timeout=60, what="the alert")
            text = await eventually(
                lambda: _until(base, "lantern_alerts_open 1.0"), what="alerts gauge"
            )
        finally:
            code = await asyncio.to_thread(terminate, process)

    store = SqlEventStore(create_engine(database))
    try:
        stored = Counter(e.type for e in await store.read_all(limit=10_000))
        [(open_alerts,)] = await store.select(
            select(func.count()).where(alerts.c.status == "open")
        )
    finally:
        await store.close()
    assert code == 0, log_of(process)
    assert stored["MissingReported"] == 1
    for kind in ("MissingReported", "RiskAssessed", "AlertRaised"):
        assert value(text, "lantern_events_appended_total", type=kind) == stored[kind]
    webhook = {"channel": "webhook"}
    sent = value(text, "lantern_messages_total", **webhook, outcome="sent")
    assert sent == len(hooks.received) == stored["AlertSent"] == 1
    assert value(text, "lantern_message_latency_seconds_count", **webhook) == 1
    assert value(text, "lantern_alerts_open") == open_alerts == 1
    assert value(text, "lantern_alerts_unacknowledged") == 1
    assert value(text, "lantern_messages_pending_oldest_seconds") == 0
    for source in SourceName:
        calls = {"source": source.value}
        assert value(text, "lantern_source_calls_total", **calls, outcome="ok") >= 1
        assert value(text, "lantern_source_calls_total", **calls, outcome="error") == 0
    for secret in (
        "Ada",
        "Fictitious",
        "FICT0001",
        "KNT-E2E-1",
        posted.json()["episode_id"],
    ):
        assert secret not in text
