"""Catch-up over a large store on PostgreSQL: a StoreSubscription reading from
checkpoint 0 to the head, against a raw asyncpg scan of the same table.

Raw: keyset pages of 1,000 (``SELECT * FROM events WHERE position > $1 ORDER BY
position LIMIT 1000``), every column fetched and decoded by asyncpg (jsonb as text).

Subscription: ``StoreSubscription.run`` from checkpoint 0 until its position is the
head, (a) with a subscriber that handles nothing (events pass by: no envelope is built
for them, and the checkpoint is committed once a second), (b) with one that handles
every BenchEvent (each handled event is its own transaction: outputs and checkpoint
together), over a bounded prefix as it is far slower. ``--profile`` adds a cProfile
of (a).
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import time
from collections.abc import Sequence
from statistics import median

import asyncpg

from bench.common import (
    arguments,
    bulk_load,
    conditions,
    fresh_postgres,
    opened,
    plain_dsn,
    print_table,
    quiet_logs,
    running,
    spread,
    until_committed,
)
from events.envelope import Envelope
from events.store.sql import SqlEventStore
from events.subscriptions import Output, Subscriber
from events.subscriptions.store import StoreSubscription

GOAL = 0.5
"""Subscription catch-up over raw scan, as the issue asks."""

PAGE = "SELECT * FROM events WHERE position > $1 ORDER BY position LIMIT 1000"


async def raw_scan(url: str) -> float:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        page = await conn.prepare(PAGE)
        start = time.perf_counter()
        after = count = 0
        while rows := await page.fetch(after):
            count += len(rows)
            after = rows[-1]["position"]
        return count / (time.perf_counter() - start)
    finally:
        await conn.close()


def passing_by(name: str) -> Subscriber:
    return Subscriber(name, {})


def handling(name: str) -> Subscriber:
    """Handles every BenchEvent with no work of its own: what is left to measure is
    the subscription's cost per handled event."""

    async def handle(envelope: Envelope) -> Sequence[Output]:
        return ()

    return Subscriber(name, {"BenchEvent": [handle]})


async def catch_up(store: SqlEventStore, subscriber: Subscriber, until: int) -> float:
    """Events/s for a new subscriber to get from checkpoint 0 to position ``until``."""
    subscription = StoreSubscription(store, subscriber)

    async def arrived() -> bool:
        return subscription.position >= until

    start = time.perf_counter()
    async with running(subscription):
        await until_committed(store, arrived, timeout=600)
        return until / (time.perf_counter() - start)


async def profiled(store: SqlEventStore, head: int) -> None:
    profile = cProfile.Profile()
    profile.enable()
    await catch_up(store, passing_by("bench-profiled"), head)
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)


async def main() -> None:
    parser = arguments(__doc__, runs=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the catch-up")
    args = parser.parse_args()
    quiet_logs()
    with conditions("catchup"):
        total = 100_000 if args.quick else 1_000_000
        counted = 300 if args.quick else 1_000
        async with fresh_postgres() as url:
            start = time.perf_counter()
            await bulk_load(url, total)
            print(
                f"bulk-loaded {total:,} events in {time.perf_counter() - start:.1f} s"
            )
            raw, nothing, handled = [], [], []
            async with opened(url) as store:
                for run in range(args.runs):
                    raw.append(await raw_scan(url))
                    nothing.append(
                        await catch_up(store, passing_by(f"bench-{run}"), total)
                    )
                    handled.append(
                        await catch_up(store, handling(f"bench-h{run}"), counted)
                    )
                if args.profile:
                    await profiled(store, total)
        report(raw, nothing, handled, total=total, counted=counted, runs=args.runs)


def report(
    raw: list[float],
    nothing: list[float],
    handled: list[float],
    *,
    total: int,
    counted: int,
    runs: int,
) -> None:
    """Ratios to raw are medians of each run's own ratio: runs alternate the readers,
    so each ratio compares figures taken under the same machine load."""
    print_table(
        f"Catch-up from position 0, events/s, median (min-max) of {runs} runs",
        ["reader", "events", "events/s", "of raw"],
        [
            ("raw asyncpg keyset scan", f"{total:,}", spread(raw), "1.00"),
            _row("StoreSubscription, handles nothing", total, nothing, raw),
            _row("StoreSubscription, handler per event", counted, handled, raw),
        ],
    )
    ratio = _paired_ratio(nothing, raw)
    verdict = "met" if ratio >= GOAL else "NOT met"
    print(f"\nsubscription/raw: {ratio:.2f} (goal >= {GOAL}: {verdict})")


def _row(
    label: str, events: int, rates: list[float], raw: list[float]
) -> tuple[str, ...]:
    return (label, f"{events:,}", spread(rates), f"{_paired_ratio(rates, raw):.3f}")


def _paired_ratio(rates: list[float], raw: list[float]) -> float:
    return median(r / b for r, b in zip(rates, raw, strict=True))


if __name__ == "__main__":
    asyncio.run(main())
