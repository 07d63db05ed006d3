"""The reports at national scale: after `lantern history import` of a year of 80,000
children and 100,000 episodes (bench/history_import.py's generator and command), on
SQLite and on PostgreSQL:

- the panel report's JSON for the year, computed by ``panel_report`` (the function
  the route and `lantern report panel` call), median of 5; goal under 1 s;
- its HTML page (goal under 3 s), where the branch has one;
- `lantern export ssda903` as a user runs it (its own process, start-up included),
  and its rows computed in-process (``missing_table_rows``); goal under 10 s;
- a rebuild of the reports' read model from the log (``ReportsProjector`` alone),
  against the store's raw catch-up rate in the same run (a keyset scan of ``events``
  in pages of 1,000 by the driver itself); goal: no less than half.

    .venv/bin/python -m bench.report [--quick] [--only sqlite|postgres]
        [--url URL] [--profile FILE]

``--url`` measures a database already imported (no import); ``--profile`` writes a
cProfile of one panel report.
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.common import (
    arguments,
    conditions,
    fresh_postgres,
    fresh_sqlite,
    plain_dsn,
    print_table,
    quiet_logs,
    spread,
)
from bench.history_import import generate, record_children, run_import
from events.store.engine import create_engine
from events.store.projections import Projections
from events.store.reading import LogReader
from events.store.sql import SqlEventStore
from services.reports.page import render_html
from services.reports.periods import Period
from services.reports.projector import ReportsProjector
from services.reports.service import missing_table_rows, panel_report
from services.reports.settings import ReportsSettings

PERIOD = Period(date(2025, 12, 1), date(2026, 12, 1))  # the generated year
YEAR = 2027  # 1 April 2026 to 31 March 2027: most of the generated year
RUNS = 5
GOALS = {"json": 1.0, "html": 3.0, "ssda903": 10.0, "rebuild": 0.5}


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    began = time.perf_counter()
    await call()
    return time.perf_counter() - began


async def medians(call: Callable[[], Awaitable[Any]], runs: int) -> list[float]:
    await call()  # warm: the first run opens connections and compiles statements
    return [await timed(call) for _ in range(runs)]


def export_command(url: str) -> float:
    """`lantern export ssda903` as its own process, wall seconds."""
    env = {**os.environ, "LANTERN_DATABASE_URL": url, "LANTERN_LOG_LEVEL": "warning"}
    lantern = str(Path(sys.executable).parent / "lantern")
    with tempfile.TemporaryDirectory(prefix="bench_903_") as out:
        began = time.perf_counter()
        subprocess.run(
            [lantern, "export", "ssda903", "--year", str(YEAR), "--out", out],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        return time.perf_counter() - began


def start_up() -> float:
    """`lantern --help`: what any command pays before it starts."""
    lantern = str(Path(sys.executable).parent / "lantern")
    began = time.perf_counter()
    subprocess.run([lantern, "--help"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


async def raw_rate(url: str) -> float:
    """Events/s of the driver alone reading ``events`` in keyset pages of 1,000."""
    if url.startswith("sqlite"):
        return await asyncio.to_thread(_sqlite_scan, url.split("///", 1)[1])
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        page = await conn.prepare(
            "SELECT * FROM events WHERE position > $1 ORDER BY position LIMIT 1000"
        )
        began, after, count = time.perf_counter(), 0, 0
        while rows := await page.fetch(after):
            count, after = count + len(rows), rows[-1]["position"]
        return count / (time.perf_counter() - began)
    finally:
        await conn.close()


def _sqlite_scan(path: str) -> float:
    conn = sqlite3.connect(path)
    try:
        page = "SELECT * FROM events WHERE position > ? ORDER BY position LIMIT 1000"
        began, after, count = time.perf_counter(), 0, 0
        while rows := conn.execute(page, (after,)).fetchall():
            count, after = count + len(rows), rows[-1][0]
        return count / (time.perf_counter() - began)
    finally:
        conn.close()


async def rebuild_rate(store: SqlEventStore) -> float:
    """Events/s of a rebuild of the reports' read model alone from the whole log."""
    log = LogReader(store.engine)
    try:
        projections = Projections(store.engine, (ReportsProjector(),), log)
        began = time.perf_counter()
        count = await projections.rebuild()
        return count / (time.perf_counter() - began)
    finally:
        log.dispose()


@asynccontextmanager
async def imported(database: str, folder: Path, children: int) -> AsyncIterator[str]:
    fresh = fresh_sqlite() if database == "sqlite" else fresh_postgres()
    async with fresh as url:
        await record_children(url, children)
        took, _, said = await asyncio.to_thread(run_import, url, folder, None)
        print(f"{database}: imported in {took:.1f} s: {said}")
        yield url


async def measure(url: str, profile: Path | None) -> dict[str, Any]:
    settings = ReportsSettings.model_construct()
    store = SqlEventStore(create_engine(url))
    try:
        raw = await raw_rate(url)
        rebuilt = await rebuild_rate(store)
        raw_after = await raw_rate(url)
        report = await panel_report(store, settings, PERIOD)
        json_s = await medians(lambda: panel_report(store, settings, PERIOD), RUNS)

        async def page() -> str:  # the route's format=html: the figures, then the page
            figures = await panel_report(store, settings, PERIOD)
            return render_html(figures, generated_at=datetime.now(UTC))

        html_s = await medians(page, RUNS)
        if profile is not None:
            profiler = cProfile.Profile()
            profiler.enable()
            await panel_report(store, settings, PERIOD)
            profiler.disable()
            profiler.dump_stats(profile)
        rows_s = await medians(
            lambda: missing_table_rows(store, settings, year=YEAR), RUNS
        )
        rows = len(await missing_table_rows(store, settings, year=YEAR))
        command_s = [await asyncio.to_thread(export_command, url) for _ in range(3)]
    finally:
        await store.close()
    return {
        "incidents": report["incidents"], "json": json_s, "html": html_s, "rows": rows,
        "rows_s": rows_s, "command": command_s,
        "raw": statistics.mean([raw, raw_after]), "rebuild": rebuilt,
    }  # fmt: skip


def _verdict(value: float, goal: float, *, under: bool = True) -> str:
    return "met" if (value < goal if under else value >= goal) else "NOT met"


def report(results: dict[str, dict[str, Any]], startup: list[float]) -> None:
    table = []
    for database, r in results.items():
        json_s, command = statistics.median(r["json"]), statistics.median(r["command"])
        html_s = statistics.median(r["html"])
        ratio = r["rebuild"] / r["raw"]
        table.append([
            database, f"{r['incidents']:,}", spread(r["json"], ".3f"),
            spread(r["html"], ".3f"),
            f"{r['rows']:,}", spread(r["rows_s"], ".2f"), spread(r["command"], ".2f"),
            f"{r['rebuild']:,.0f}", f"{r['raw']:,.0f}", f"{ratio:.2f}",
        ])  # fmt: skip
        print(
            f"{database}: JSON {json_s:.3f} s (goal < {GOALS['json']} s: "
            f"{_verdict(json_s, GOALS['json'])}); HTML {html_s:.3f} s (goal < "
            f"{GOALS['html']} s: {_verdict(html_s, GOALS['html'])}); export "
            f"{command:.2f} s (goal < {GOALS['ssda903']} s: "
            f"{_verdict(command, GOALS['ssda903'])}); rebuild/raw {ratio:.2f} (goal "
            f">= {GOALS['rebuild']}: {_verdict(ratio, GOALS['rebuild'], under=False)})"
        )
    print_table(
        f"Reports of {PERIOD.start} to {PERIOD.end} (seconds: median (min-max) of "
        f"{RUNS} warm runs; export command: of 3)",
        ["store", "incidents", "JSON s", "HTML s", "903 rows", "rows s",
         "export s", "rebuild ev/s", "raw ev/s", "of raw"],
        table,
    )  # fmt: skip
    print(f"\n`lantern --help` start-up: {spread(startup, '.2f')} s")


async def main() -> None:
    parser = arguments(__doc__, runs=1)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--url", help="measure this imported database (no import)")
    parser.add_argument("--profile", type=Path, help="cProfile one panel report here")
    args = parser.parse_args()
    quiet_logs()
    children = 8_000 if args.quick else 80_000
    results: dict[str, dict[str, Any]] = {}
    with conditions("reports"):
        startup = [await asyncio.to_thread(start_up) for _ in range(3)]
        if args.url:
            name = "sqlite" if args.url.startswith("sqlite") else "postgres"
            results[name] = await measure(args.url, args.profile)
        else:
            with tempfile.TemporaryDirectory(prefix="bench_report_") as tmp:
                folder = Path(tmp)
                print(f"{children:,} children, {generate(folder, children):,} rows")
                for database in [args.only] if args.only else ["sqlite", "postgres"]:
                    async with imported(database, folder, children) as url:
                        results[database] = await measure(url, args.profile)
    report(results, startup)


if __name__ == "__main__":
    asyncio.run(main())
