"""Appends/s with single-event transactions, each writer on a stream of its own:
Lantern's SqlEventStore on PostgreSQL and SQLite, and the eventsourcing library's
PostgreSQL recorder (threads; it locks its table per transaction), in the same run.

Each append is one ``store.append(stream, [one event], expected_version=v)`` call
(one ``recorder.insert_events([one stored event])`` for eventsourcing). A run counts
the appends that complete within a fixed time after a warm-up append per writer.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from statistics import median
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from sqlalchemy.engine import make_url

from bench.common import (
    NOTE,
    BenchEvent,
    a_stream,
    arguments,
    bench_event,
    conditions,
    fresh_postgres,
    fresh_sqlite,
    opened,
    print_table,
    quiet_logs,
    spread,
)

GOAL = 5.0
"""Lantern over eventsourcing at 32 writers, as the issue asks."""


@dataclass(frozen=True)
class Case:
    system: str
    writers: int


CASES = [
    *(Case("lantern-postgres", n) for n in (1, 8, 32)),
    *(Case("lantern-sqlite", n) for n in (1, 32)),
    *(Case("eventsourcing-postgres", n) for n in (1, 8, 32)),
]


# -- Lantern ------------------------------------------------------------------------


async def lantern_rate(url: str, writers: int, seconds: float) -> float:
    async with opened(url) as store:
        streams = [a_stream() for _ in range(writers)]
        await asyncio.gather(  # warm-up: connections, statement caches
            *(store.append(s, [bench_event(1)], expected_version=0) for s in streams)
        )
        start = time.perf_counter()
        deadline = start + seconds

        async def write(stream: str) -> int:
            version = 1
            while time.perf_counter() < deadline:
                await store.append(
                    stream, [bench_event(version)], expected_version=version
                )
                version += 1
            return version - 1

        done = await asyncio.gather(*(write(s) for s in streams))
        return sum(done) / (time.perf_counter() - start)


# -- eventsourcing ------------------------------------------------------------------


def eventsourcing_rate(url: str, writers: int, seconds: float) -> float:
    parts = make_url(url)
    datastore = PostgresDatastore(
        dbname=str(parts.database),
        host=str(parts.host),
        port=parts.port or 5432,
        user=str(parts.username),
        password=str(parts.password),
        pool_size=writers,
    )
    try:
        recorder = PostgresApplicationRecorder(datastore)
        recorder.create_table()
        return _threads_rate(recorder, writers, seconds)
    finally:
        datastore.close()


def _threads_rate(
    recorder: PostgresApplicationRecorder, writers: int, seconds: float
) -> float:
    ids = [uuid4() for _ in range(writers)]
    state = json.dumps(BenchEvent(n=1, note=NOTE).to_data()).encode()

    def insert(originator: UUID, version: int) -> None:
        recorder.insert_events(
            [StoredEvent(originator, version, "bench:BenchEvent", state)]
        )

    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(insert, ids, [1] * writers))  # warm-up: one connection per thread
        start = time.perf_counter()
        deadline = start + seconds

        def write(originator: UUID) -> int:
            version = 1
            while time.perf_counter() < deadline:
                version += 1
                insert(originator, version)
            return version - 1

        done = sum(pool.map(write, ids))
    return done / (time.perf_counter() - start)


# -- the run ------------------------------------------------------------------------


async def measure(case: Case, pg_url: str, sqlite_url: str, seconds: float) -> float:
    if case.system == "lantern-postgres":
        return await lantern_rate(pg_url, case.writers, seconds)
    if case.system == "lantern-sqlite":
        return await lantern_rate(sqlite_url, case.writers, seconds)
    return await asyncio.to_thread(eventsourcing_rate, pg_url, case.writers, seconds)


async def main() -> None:
    args = arguments(__doc__, runs=3).parse_args()
    quiet_logs()
    with conditions("appends"):
        seconds = 1.0 if args.quick else 3.0
        rates: dict[Case, list[float]] = defaultdict(list)
        async with fresh_postgres() as pg_url, fresh_sqlite() as sqlite_url:
            for _ in range(
                args.runs
            ):  # every case once per round, so drift hits all alike
                for case in CASES:
                    rates[case].append(await measure(case, pg_url, sqlite_url, seconds))
        report(rates, runs=args.runs, seconds=seconds)


def report(rates: dict[Case, list[float]], *, runs: int, seconds: float) -> None:
    print_table(
        f"Single-event appends/s, median (min-max) of {runs} runs of {seconds:g} s",
        ["system", "writers", "appends/s"],
        [(c.system, c.writers, spread(rates[c])) for c in CASES],
    )
    lantern, library = Case("lantern-postgres", 32), Case("eventsourcing-postgres", 32)
    # each round ran both back to back: compare within rounds, then take the median
    ratio = median(a / b for a, b in zip(rates[lantern], rates[library], strict=True))
    verdict = "met" if ratio >= GOAL else "NOT met"
    print(
        f"\nLantern/eventsourcing at 32 writers: {ratio:.1f}x "
        f"(goal >= {GOAL:g}x: {verdict})"
    )


if __name__ == "__main__":
    asyncio.run(main())
