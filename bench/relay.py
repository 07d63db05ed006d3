"""The relay, store -> Kafka, on PostgreSQL.

Throughput: seed the store, run a KafkaRelay from checkpoint 0 until its checkpoint
reaches the head (producer and topic start-up included), events/s.

Lag: append at a steady 1,000 events/s while a relay runs; a consumer reads the topic
and takes, per event, the wall time it read the event minus (a) the wall time just
before ``append`` was called (carried in the payload): end to end, and (b) the
envelope's ``recorded_at``, stamped inside the store's write transaction: the relay's
own share, without the append's queueing for the group commit. Two ways to run the
relay: sharing the appenders' store, as ``lantern run`` does (a commit wakes it at
once), and on a store of its own, as a separate ``lantern relay`` process would be (it
learns of commits by polling).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID

from aiokafka import AIOKafkaConsumer

from bench.common import (
    KAFKA,
    a_stream,
    arguments,
    bench_event,
    bench_topic,
    bulk_load,
    conditions,
    fresh_postgres,
    opened,
    paced,
    percentile,
    print_table,
    quiet_logs,
    running,
    set_checkpoint,
    spread,
    topic_prefix,
    until_committed,
)
from events.cloudevents import from_message
from events.relay import NAME, PARTITION, KafkaRelay
from events.store.sql import SqlEventStore

RATE = 1_000
STREAMS = 50
"""Load-generator streams, appended to round-robin."""


@dataclass(frozen=True, slots=True)
class Lag:
    """Seconds from the append call, and from the store's ``recorded_at``, to read."""

    since_append: float
    since_recorded: float


# -- throughput ---------------------------------------------------------------------


async def throughput(store: SqlEventStore) -> float:
    """Events/s from checkpoint 0 to the head, onto a topic of its own."""
    await set_checkpoint(store, NAME, 0)
    head = await store.head()

    async def relayed() -> bool:
        return await store.checkpoint(NAME, PARTITION) >= head

    prefix = topic_prefix()
    async with bench_topic(prefix):
        start = time.perf_counter()
        async with running(_relay(store, prefix)):
            await until_committed(store, relayed, timeout=600)
            return head / (time.perf_counter() - start)


def _relay(store: SqlEventStore, prefix: str) -> KafkaRelay:
    return KafkaRelay(store, bootstrap_servers=KAFKA, topic_prefix=prefix)


# -- lag ----------------------------------------------------------------------------


async def lag(
    appender: SqlEventStore, relay_store: SqlEventStore, seconds: float
) -> list[Lag]:
    """Per-event lags for ``seconds`` of appends at RATE events/s."""
    await set_checkpoint(appender, NAME, await appender.head())
    prefix = topic_prefix()
    streams = [a_stream() for _ in range(STREAMS)]

    async def send(n: int) -> None:
        event = bench_event(n, sent_at=time.time())
        await appender.append(streams[n % STREAMS], [event], expected_version=None)

    async with (
        bench_topic(prefix) as topic,
        _reading(topic) as consumer,
        running(_relay(relay_store, prefix)),
    ):
        await send(-1)  # warm-up: producer, topic metadata and consumer all ready
        await _lags(consumer, 1)
        count = int(RATE * seconds)
        reading = asyncio.create_task(_lags(consumer, count))
        await paced(RATE, count, send)
        return list((await asyncio.wait_for(reading, timeout=120)).values())


@asynccontextmanager
async def _reading(topic: str) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=KAFKA, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def _lags(consumer: AIOKafkaConsumer, count: int) -> dict[UUID, Lag]:
    """Read ``count`` distinct events; each one's lags, first delivery only."""
    lags: dict[UUID, Lag] = {}
    while len(lags) < count:
        for records in (await consumer.getmany(timeout_ms=200)).values():
            now = time.time()
            for record in records:
                envelope = from_message(record.value, record.headers)
                lags.setdefault(
                    envelope.event_id,
                    Lag(
                        since_append=now - envelope.data["sent_at"],
                        since_recorded=now - envelope.recorded_at.timestamp(),
                    ),
                )
    return lags


# -- the run ------------------------------------------------------------------------


async def main() -> None:
    args = arguments(__doc__, runs=3).parse_args()
    quiet_logs()
    with conditions("relay"):
        seed = 20_000 if args.quick else 100_000
        seconds = 5.0 if args.quick else 20.0
        async with fresh_postgres() as url:
            await bulk_load(url, seed)
            async with opened(url) as store, opened(url) as own_store:
                rates = [await throughput(store) for _ in range(args.runs)]
                shared = await lag(store, store, seconds)
                separate = await lag(store, own_store, seconds)
        print_table(
            f"Relay throughput, {seed:,} events from checkpoint 0, "
            f"median (min-max) of {args.runs} runs",
            ["relay", "events/s"],
            [("KafkaRelay -> Kafka (acks=all)", spread(rates))],
        )
        print_table(
            f"Relay lag at a steady {RATE:,} events/s for {seconds:g} s "
            f"({len(shared):,} events), ms: "
            "read from Kafka minus the append call | minus recorded_at",
            ["relay runs", "p50", "p99", "max", "| p50", "p99", "max"],
            [_lag_row("sharing the appenders' store", shared),
             _lag_row("own store (separate process)", separate)],
        )  # fmt: skip


def _lag_row(label: str, lags: list[Lag]) -> tuple[str, ...]:
    return (
        label,
        *_figures([x.since_append for x in lags]),
        *_figures([x.since_recorded for x in lags]),
    )


def _figures(seconds: list[float]) -> tuple[str, ...]:
    ms = [x * 1000 for x in seconds]
    return tuple(f"{x:,.1f}" for x in (percentile(ms, 50), percentile(ms, 99), max(ms)))


if __name__ == "__main__":
    asyncio.run(main())
