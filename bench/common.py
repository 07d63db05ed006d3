"""What every benchmark shares: fresh databases and topics, the bench event, a paced
load generator, bulk loading, statistics and a small table printer."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import psutil
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import delete

from events.cloudevents import topic_for
from events.envelope import NewEvent
from events.logs import configure_logging
from events.registry import Event
from events.runtime import Worker, run_workers
from events.store import Checkpoint, Commit
from events.store.engine import create_engine
from events.store.migrate import upgrade
from events.store.sql import SqlEventStore
from events.store.tables import checkpoints
from events.subscriptions.store import PARTITION as STORE_PARTITION

PG_URL = os.environ.get(
    "LANTERN_BENCH_DATABASE_URL",
    "postgresql+asyncpg://lantern:lantern@127.0.0.1:5432/lantern",
)
KAFKA = os.environ.get("LANTERN_BENCH_KAFKA", "127.0.0.1:9092")
CATEGORY = "bench"
NOTE = "a missing-from-care report, roughly the size of a real event payload " * 2


class BenchEvent(Event):
    """The benchmarks' payload: a counter, the wall time it was sent, some padding."""

    n: int
    sent_at: float = 0.0
    note: str = ""


def bench_event(n: int, sent_at: float = 0.0) -> NewEvent:
    return NewEvent(event=BenchEvent(n=n, sent_at=sent_at, note=NOTE), actor="bench")


def a_stream() -> str:
    return f"{CATEGORY}-{uuid.uuid4()}"


# -- command line -------------------------------------------------------------------


def arguments(description: str | None, *, runs: int) -> argparse.ArgumentParser:
    """``--quick`` (or LANTERN_BENCH_QUICK=1) for a much shorter run; ``--runs`` N."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("LANTERN_BENCH_QUICK") == "1",
        help="a much shorter run (also LANTERN_BENCH_QUICK=1)",
    )
    parser.add_argument("--runs", type=int, default=runs, help=f"repetitions [{runs}]")
    return parser


def quiet_logs() -> None:
    """Lantern's warnings and errors only, so the figures stand out; and not the error
    aiokafka logs while a topic just created still elects its partition leaders."""
    configure_logging(level="warning", fmt="console", environment="dev")
    logging.getLogger("aiokafka.consumer.fetcher").addFilter(_leader_not_elected_yet)


def _leader_not_elected_yet(record: logging.LogRecord) -> bool:
    return "NotLeaderForPartitionError" not in record.getMessage()


# -- databases and topics -------------------------------------------------------------


def plain_dsn(url: str) -> str:
    """The SQLAlchemy URL as asyncpg takes it."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(plain_dsn(PG_URL))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_postgres() -> AsyncIterator[str]:
    """A new migrated PostgreSQL database ``bench_*``, dropped on the way out."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    await _admin(f"CREATE DATABASE {name}")
    try:
        url = PG_URL.rsplit("/", 1)[0] + "/" + name
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await _admin(f"DROP DATABASE {name} WITH (FORCE)")


@asynccontextmanager
async def fresh_sqlite() -> AsyncIterator[str]:
    """A new migrated SQLite file in a temporary folder, removed on the way out."""
    with tempfile.TemporaryDirectory(prefix="bench_") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'lantern.db'}"
        await asyncio.to_thread(upgrade, url)
        yield url


@asynccontextmanager
async def opened(url: str) -> AsyncIterator[SqlEventStore]:
    store = SqlEventStore(create_engine(url))
    try:
        yield store
    finally:
        await store.close()


def topic_prefix() -> str:
    return f"bench{uuid.uuid4().hex[:10]}."


@asynccontextmanager
async def bench_topic(prefix: str, *, partitions: int = 6) -> AsyncIterator[str]:
    """The bench streams' topic under ``prefix``, created before anyone subscribes (a
    consumer would otherwise auto-create it with the broker's default partitions) and
    deleted afterwards, so runs leave nothing on the broker."""
    topic = topic_for(a_stream(), prefix)
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        created = await admin.create_topics([NewTopic(topic, partitions, 1)])
        for name, code, message in created.topic_errors:  # errors come back, not raised
            if code:
                raise RuntimeError(f"cannot create topic {name}: {message} ({code})")
        yield topic
    finally:
        await admin.delete_topics([topic])
        await admin.close()


# -- load ---------------------------------------------------------------------------


async def paced(
    rate: float, count: int, fire: Callable[[int], Awaitable[object]]
) -> None:
    """Start ``fire(i)`` on a fixed schedule of ``rate`` per second (a slow call does
    not delay the next start), then wait for all of them."""
    start = time.perf_counter()
    started: list[asyncio.Future[object]] = []
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        started.append(asyncio.ensure_future(fire(i)))
    await asyncio.gather(*started)


@asynccontextmanager
async def running(*workers: Worker) -> AsyncIterator[None]:
    """Run ``workers`` (subscriptions, relays) for the block, then stop them cleanly."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_workers(workers, stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def set_checkpoint(store: SqlEventStore, subscriber: str, position: int) -> None:
    """Put ``subscriber``'s checkpoint on the store (partition ``store``, the relay's
    too) at ``position``. Commits only move checkpoints forward: the old one goes first.
    """
    async with store.engine.begin() as conn:
        await conn.execute(
            delete(checkpoints).where(checkpoints.c.subscriber == subscriber)
        )
    if position:
        checkpoint = Checkpoint(subscriber, STORE_PARTITION, position)
        await store.commit(Commit(checkpoint=checkpoint))


async def until_committed(
    store: SqlEventStore, check: Callable[[], Awaitable[bool]], *, timeout: float
) -> None:
    """Re-check after each commit ``store`` makes (no polling) until ``check`` holds."""
    async with asyncio.timeout(timeout):
        while True:
            changed = store.changes()
            if await check():
                return
            await changed.wait()


async def bulk_load(url: str, count: int, *, streams: int = 10_000) -> None:
    """Write ``count`` valid BenchEvents into ``events``, round-robin over ``streams``
    streams, in one server-side INSERT ... SELECT (PostgreSQL only). The table's
    constraints are dropped for the load and rebuilt from their own definitions after:
    building an index once is far faster than maintaining it row by row. The table is
    then vacuumed and checkpointed, so readers timed next do not pay for the load."""
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        constraints = await conn.fetch(_CONSTRAINTS)
        await conn.execute("SET synchronous_commit = off")
        async with conn.transaction():
            for c in constraints:
                await conn.execute(f"ALTER TABLE events DROP CONSTRAINT {c['name']}")
            await conn.execute(_GENERATE, NOTE, count, streams)
            for c in constraints:
                await conn.execute(
                    f"ALTER TABLE events ADD CONSTRAINT {c['name']} {c['definition']}"
                )
            await conn.execute(_ADVANCE_SEQUENCE)
        # hint bits set and the load's writes flushed: readers timed next pay for none
        await conn.execute("VACUUM (ANALYZE) events")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


_CONSTRAINTS = """
SELECT conname AS name, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE conrelid = 'events'::regclass
"""
_GENERATE = """
INSERT INTO events (position, event_id, stream_id, stream_version, type, schema_version,
                    data, occurred_at, recorded_at, correlation_id, causation_id, actor)
SELECT i, id, 'bench-' || md5(((i - 1) % $3)::text)::uuid, (i - 1) / $3 + 1,
       'BenchEvent', 1, jsonb_build_object('n', i, 'sent_at', 0.0, 'note', $1::text),
       now(), now(), id, NULL, 'bench'
FROM (SELECT i, gen_random_uuid() AS id FROM generate_series(1, $2::int) AS i) AS g
"""
_ADVANCE_SEQUENCE = """
SELECT setval(pg_get_serial_sequence('events', 'position'), max(position))
FROM events HAVING count(*) > 0
"""


# -- figures ------------------------------------------------------------------------


@contextmanager
def conditions(name: str) -> Iterator[None]:
    """Say when the figures were taken and how busy the machine was meanwhile: the
    load average, the share of CPU time the hypervisor stole, and the share left idle
    (other work on the machine shows as little idle with little of it ours)."""
    before = psutil.cpu_times()
    print(
        f"{name}: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    yield
    spent = [a - b for a, b in zip(psutil.cpu_times(), before, strict=True)]
    share = dict(
        zip(before._fields, (100 * x / sum(spent) for x in spent), strict=True)
    )
    print(
        f"\n{name} done: load average {os.getloadavg()[0]:.2f}; of the CPU time "
        f"meanwhile {share['steal']:.0f}% stolen by the hypervisor, "
        f"{share['idle']:.0f}% idle"
    )


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100), interpolating between the nearest ranks."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def spread(values: Sequence[float], fmt: str = ",.0f") -> str:
    """``median (min-max)`` of the runs, e.g. ``1,234 (1,200-1,260)``."""
    middle = statistics.median(values)
    if len(values) == 1:
        return format(middle, fmt)
    return f"{middle:{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def print_table(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    cells = [list(map(str, headers)), *([str(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    print(f"\n{title}")
    for index, row in enumerate(cells):
        aligned = (
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        print("  ".join(aligned))
        if index == 0:
            print("  ".join("-" * w for w in widths))
