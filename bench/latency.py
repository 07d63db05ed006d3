"""Append -> handler latency at a steady 200 events/s (``--rate``), p50 and p99.

The appender takes ``time.perf_counter()`` just before ``store.append`` (one event per
call, on a fixed schedule); the handler takes it when called for that event.

Embedded: SqlEventStore on a SQLite file and a StoreSubscription in the same process,
as ``lantern run`` without Kafka.

Kafka: SqlEventStore on PostgreSQL, a KafkaRelay and a KafkaSubscription in the same
process (the relay shares the appenders' store, so a commit wakes it at once).

"handled/s" is the events over the time from the first send to the last handler call:
below the offered rate, the handler cannot keep up and latency grows with the run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from uuid import UUID

from bench.common import (
    KAFKA,
    a_stream,
    arguments,
    bench_event,
    bench_topic,
    conditions,
    fresh_postgres,
    fresh_sqlite,
    opened,
    paced,
    percentile,
    print_table,
    quiet_logs,
    running,
    set_checkpoint,
    spread,
    topic_prefix,
)
from events.envelope import Envelope
from events.relay import NAME as RELAY
from events.relay import KafkaRelay
from events.store.sql import SqlEventStore
from events.subscriptions import Output, Subscriber
from events.subscriptions.kafka import KafkaSubscription
from events.subscriptions.store import StoreSubscription

STREAMS = 20
NAME = "bench-latency"
"""The subscriber, and so the Kafka consumer group: one name for every run (each run
has a topic of its own), so runs do not pile up consumer groups on the broker."""

Pipeline = Callable[[SqlEventStore, Subscriber], AbstractAsyncContextManager[None]]


class Clock:
    """When each event was sent and when its handler was called, by event id."""

    def __init__(self) -> None:
        self.sent: dict[UUID, float] = {}
        self.arrived: dict[UUID, float] = {}
        self._arrival = asyncio.Event()

    async def handle(self, envelope: Envelope) -> Sequence[Output]:
        self.arrived.setdefault(envelope.event_id, time.perf_counter())
        self._arrival.set()
        return ()

    async def until_all_arrived(self, *, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not self.sent.keys() <= self.arrived.keys():
                self._arrival.clear()
                await self._arrival.wait()

    def latencies(self) -> list[float]:
        return [self.arrived[i] - sent for i, sent in self.sent.items()]

    def handled_rate(self) -> float:
        first = min(self.sent.values())
        last = max(self.arrived[i] for i in self.sent)
        return len(self.sent) / (last - first)


@asynccontextmanager
async def embedded(store: SqlEventStore, subscriber: Subscriber) -> AsyncIterator[None]:
    await set_checkpoint(store, subscriber.name, await store.head())
    async with running(StoreSubscription(store, subscriber)):
        yield


@asynccontextmanager
async def kafka(store: SqlEventStore, subscriber: Subscriber) -> AsyncIterator[None]:
    await set_checkpoint(store, RELAY, await store.head())
    prefix = topic_prefix()
    async with (
        bench_topic(prefix),
        running(
            KafkaRelay(store, bootstrap_servers=KAFKA, topic_prefix=prefix),
            KafkaSubscription(
                store, subscriber, bootstrap_servers=KAFKA, topic_prefix=prefix
            ),
        ),
    ):
        yield


async def one_run(
    store: SqlEventStore, pipeline: Pipeline, rate: float, count: int
) -> Clock:
    """Send and handling times of ``count`` events appended at ``rate`` per second."""
    clock = Clock()
    streams = [a_stream() for _ in range(STREAMS)]

    async def send(n: int) -> None:
        event = bench_event(n)
        clock.sent[event.event_id] = time.perf_counter()
        await store.append(streams[n % STREAMS], [event], expected_version=None)

    async with pipeline(store, Subscriber(NAME, {"BenchEvent": [clock.handle]})):
        await send(-1)  # warm-up: connections, consumer group joined, partitions
        await clock.until_all_arrived(timeout=120)
        clock.sent.clear()
        await paced(rate, count, send)
        await clock.until_all_arrived(timeout=600)
    return clock


async def main() -> None:
    parser = arguments(__doc__, runs=3)
    parser.add_argument("--rate", type=float, default=200, help="events/s [200]")
    args = parser.parse_args()
    quiet_logs()
    with conditions("latency"):
        count = int(args.rate * (2 if args.quick else 10))
        async with fresh_sqlite() as url, opened(url) as store:
            local = [
                await one_run(store, embedded, args.rate, count)
                for _ in range(args.runs)
            ]
        async with fresh_postgres() as url, opened(url) as store:
            remote = [
                await one_run(store, kafka, args.rate, count) for _ in range(args.runs)
            ]
        print_table(
            f"Append -> handler latency, ms, {count:,} events at {args.rate:g}/s; "
            f"median (min-max) of {args.runs} runs",
            ["mode", "p50", "p99", "max", "handled/s"],
            [_row("embedded: SQLite + StoreSubscription", local),
             _row("Kafka: PostgreSQL + relay + KafkaSubscription", remote)],
        )  # fmt: skip


def _row(label: str, runs: list[Clock]) -> tuple[str, ...]:
    ms = [[x * 1000 for x in run.latencies()] for run in runs]
    return (
        label,
        spread([percentile(run, 50) for run in ms], ".1f"),
        spread([percentile(run, 99) for run in ms], ".1f"),
        spread([max(run) for run in ms], ".1f"),
        spread([run.handled_rate() for run in runs]),
    )


if __name__ == "__main__":
    asyncio.run(main())
