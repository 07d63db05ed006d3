"""The relay: every committed event reaches Kafka, in order per stream, at least once,
through a relay crash and a broker restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from events.relay import NAME, PARTITION, KafkaRelay
from events.store.sql import SqlEventStore
from tests.builders import a_stream, happened
from tests.kafka_reader import in_stream_order, read_until, run_in_thread
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]


async def _seed(
    store: SqlEventStore, streams: int, per_stream: int, chunk: int = 50
) -> set:
    ids: set[object] = set()
    names = [a_stream() for _ in range(streams)]
    for start in range(0, per_stream, chunk):
        batch = {s: [happened(i) for i in range(start, min(per_stream, start + chunk))]
                 for s in names}  # fmt: skip
        await asyncio.gather(
            *(store.append(s, evs, expected_version=start) for s, evs in batch.items())
        )
        ids |= {e.event_id for evs in batch.values() for e in evs}
    return ids


async def test_events_reach_kafka_in_stream_order_as_cloudevents(
    pg_store: SqlEventStore, kafka_servers: str, topic_prefix: str
):
    ids = await _seed(pg_store, streams=8, per_stream=30)
    stop = asyncio.Event()
    relay = KafkaRelay(
        pg_store, bootstrap_servers=kafka_servers, topic_prefix=topic_prefix
    )
    task = asyncio.create_task(relay.run(stop))
    try:
        received = await read_until(kafka_servers, f"{topic_prefix}test", ids)
    finally:
        stop.set()
        await task

    assert in_stream_order(received)
    key, envelope, headers = received.messages[0]
    assert key == envelope.stream_id
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"TestHappened"
    assert headers["ce_id"] == str(envelope.event_id).encode()
    assert headers["content-type"] == b"application/json"
    assert {"ce_source", "ce_time", "ce_subject", "ce_correlationid"} <= set(headers)
    assert await pg_store.checkpoint(NAME, PARTITION) == await pg_store.head()


async def test_relay_killed_mid_batch_resumes_and_loses_nothing(
    pg_store: SqlEventStore, pg_database: str, kafka_servers: str, topic_prefix: str
):
    ids = await _seed(pg_store, streams=40, per_stream=500, chunk=100)
    head = await pg_store.head()
    env = {
        **os.environ,
        "LANTERN_DATABASE_URL": pg_database,
        "LANTERN_KAFKA_BOOTSTRAP_SERVERS": kafka_servers,
        "LANTERN_KAFKA_TOPIC_PREFIX": topic_prefix,
        "LANTERN_LOG_LEVEL": "warning",
    }
    command = [str(Path(sys.executable).parent / "lantern"), "relay"]
    relay = subprocess.Popen(command, env=env, cwd=ROOT)
    await eventually(
        lambda: _checkpoint_past(pg_store, 1), timeout=60, what="relay started"
    )
    relay.send_signal(signal.SIGKILL)
    await asyncio.to_thread(relay.wait, 30)
    assert await pg_store.checkpoint(NAME, PARTITION) < head, "killed too late"

    again = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        received = await read_until(
            kafka_servers, f"{topic_prefix}test", ids, timeout=120
        )
        await eventually(lambda: _checkpoint_past(pg_store, head - 1), timeout=60)
    finally:
        again.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(again.wait, 30) == 0

    assert in_stream_order(received)


@pytest.mark.alone  # restarts the broker every other test uses
async def test_broker_restart_mid_stream_loses_nothing(
    pg_store: SqlEventStore, kafka_servers: str, topic_prefix: str
):
    stop = asyncio.Event()
    relay = KafkaRelay(
        pg_store, bootstrap_servers=kafka_servers, topic_prefix=topic_prefix
    )
    task = asyncio.create_task(relay.run(stop))
    streams = [a_stream() for _ in range(10)]
    ids: set[object] = set()
    version = 0

    async def write_round() -> None:
        nonlocal version
        for stream in streams:
            event = happened(version)
            await pg_store.append(stream, [event], expected_version=version)
            ids.add(event.event_id)
        version += 1

    try:
        for _ in range(20):
            await write_round()
        await eventually(lambda: _checkpoint_past(pg_store, 100), what="relay flowing")
        restart = asyncio.create_task(
            run_in_thread(str(ROOT / "deploy/local/kafka.sh"), "restart")
        )
        while not restart.done():  # keep appending while the broker goes and comes back
            await write_round()
        await restart
        received = await read_until(
            kafka_servers, f"{topic_prefix}test", ids, timeout=120
        )
    finally:
        stop.set()
        await task

    assert in_stream_order(received)


async def _checkpoint_past(store: SqlEventStore, position: int) -> bool:
    return await store.checkpoint(NAME, PARTITION) > position
