"""Triage: assessments/s and p50/p99 latency of one assessment (ask the three
sources, read the history and the directory, score), with every source answering in
20 ms, and with one source timing out. The sources are `lantern sources serve`, a
separate process; the store is PostgreSQL.

    .venv/bin/python -m bench.triage [--quick] [--runs N]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from bench.common import (
    arguments,
    fresh_postgres,
    percentile,
    print_table,
    quiet_logs,
    spread,
)
from events.contracts.missing import Child, ChildMatch, MissingReported, Placement
from events.envelope import NewEvent
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from services.records.children import ChildrenProjector
from services.records.episodes import EpisodesProjector
from services.triage.handlers import Triage
from services.triage.policy_file import load_policy
from services.triage.sources import SourceName
from services.triage.sources.http import SourceSettings
from services.triage.sources.settings import ADAPTERS
from tests.e2e.processes import free_port, until_healthy

LATENCY_MS = 20
CONCURRENCY = (1, 16)  # one at a time: latency; sixteen at once: throughput
BIN = Path(sys.executable).parent


@asynccontextmanager
async def _sources(latency_ms: int, slow: SourceName | None) -> AsyncIterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(BIN / "lantern"),
            "sources",
            "serve",
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
        ],
        env={**os.environ, "LANTERN_LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    root = f"http://127.0.0.1:{port}"
    try:
        await until_healthy(root)
        if slow:
            async with httpx.AsyncClient() as http:
                await http.put(f"{root}/_faults/{slow}", json={"latency_ms": 10_000})
        yield root
    finally:
        process.terminate()
        process.wait(30)


async def _seed(store: SqlEventStore, count: int) -> list[uuid.UUID]:
    ids = []
    start = datetime.now(UTC) - timedelta(hours=2)
    for n in range(count):
        episode_id = uuid.uuid4()
        report = MissingReported(
            episode_id=episode_id,
            police_force="KENT",
            police_reference=f"B-{n}",
            reported_at=start,
            missing_since=start,
            episode_type="missing",
            police_risk_grade="low",
            child=Child(
                la_child_id="FICT0001",
                given_name="Ada",
                family_name="Fictitious",
                date_of_birth=date(2009, 3, 14),
                gender="female",
            ),
            placement=Placement(placing_authority="886", placement_type="foster_care"),
            match=ChildMatch(status="unmatched"),
        )
        await store.append(
            f"episode-{episode_id}", [NewEvent(event=report)], expected_version=0
        )
        ids.append(episode_id)
    return ids


async def _run(
    url: str, root: str, episodes: list[uuid.UUID], concurrency: int
) -> tuple[float, list[float]]:
    store = SqlEventStore(create_engine(url))
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=100)) as client:
        sources = [
            ADAPTERS[n](SourceSettings(base_url=f"{root}/{n}"), client)
            for n in SourceName
        ]
        triage = Triage(store, sources, load_policy(), council="886")
        latencies: list[float] = []
        queue = list(episodes)

        async def worker() -> None:
            while queue:
                view = await triage.load(queue.pop())
                assert view is not None
                started = time.perf_counter()
                await triage.assess(view)
                latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    await store.close()
    return len(episodes) / elapsed, latencies


async def main() -> None:
    args = arguments(__doc__, runs=3).parse_args()
    quiet_logs()
    count = 100 if args.quick else 400
    rows = []
    async with fresh_postgres() as url:
        seeded = SqlEventStore(
            create_engine(url), projectors=[EpisodesProjector(), ChildrenProjector()]
        )
        episodes = await _seed(seeded, count)
        await seeded.close()
        for label, slow in (
            ("all answer in 20 ms", None),
            ("youth_justice times out", SourceName.youth_justice),
        ):
            async with _sources(LATENCY_MS, slow) as root:
                for concurrency in CONCURRENCY:
                    rates, p50s, p99s = [], [], []
                    for _ in range(args.runs):
                        rate, latencies = await _run(url, root, episodes, concurrency)
                        rates.append(rate)
                        p50s.append(statistics.median(latencies))
                        p99s.append(percentile(latencies, 99))
                    rows.append(
                        [
                            label,
                            concurrency,
                            spread(rates),
                            spread(p50s, ".1f"),
                            spread(p99s, ".1f"),
                        ]
                    )
    print_table(
        f"triage assessments, {count} x {args.runs} runs (budget {Triage.budget_s} s)",
        ["sources", "at once", "assessments/s", "p50 ms", "p99 ms"],
        rows,
    )
    print(f"\ngoal: p99 within {LATENCY_MS} ms + 50 ms when all answer")


if __name__ == "__main__":
    asyncio.run(main())
