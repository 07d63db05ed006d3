"""`lantern history import` at a national scale: a year of 80,000 children and 100,000
episodes (with their return interviews, periods of care and 2,000 Family Group
Conferences) generated into a folder, the children recorded first (not measured), then
the command run as its own process on SQLite and on PostgreSQL: its wall time, rows/s
and events/s, and its peak RSS (psutil, every 50 ms). Goal: under 2 minutes and under
500 MB. A second import of the same folder is timed too (it must record nothing).

    .venv/bin/python -m bench.history_import [--quick] [--runs N]
        [--only sqlite|postgres] [--profile FILE]
"""

from __future__ import annotations

import asyncio
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psutil

from bench.common import (
    arguments,
    conditions,
    fresh_postgres,
    fresh_sqlite,
    print_table,
    quiet_logs,
    spread,
)
from events.contracts.children import ChildRecorded
from events.envelope import NewEvent
from events.store import Append, Commit
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from services.processes import projectors
from services.returns.reasons import REASONS

YEAR_START = datetime(2025, 12, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
REASON_CODES = sorted(REASONS)
EPISODE_SPREAD = ((70, 1), (7, 2), (2, 4), (1, 8))
"""Per 80 children: how many go missing that many times (100 episodes per 80)."""


def child_ids(children: int) -> list[str]:
    return [f"C{n:06d}" for n in range(children)]


def generate(folder: Path, children: int, seed: int = 18) -> int:
    """Write the three files; returns their rows."""
    rng = random.Random(seed)
    ids = child_ids(children)
    rows = 0
    with (folder / "care_periods.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["la_child_id", "start_date", "end_date"])
        for child in ids:
            start = date(2015, 1, 1) + timedelta(days=rng.randrange(3500))
            if rng.random() < 0.1:  # an earlier period, ended
                out.writerow(
                    [child, start - timedelta(days=900), start - timedelta(400)]
                )
                rows += 1
            out.writerow([child, start, ""])
            rows += 1
    with (folder / "episodes.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(
            ["la_child_id", "episode_type", "start", "end", "rhi_offered",
             "rhi_accepted", "rhi_completed_at", "reasons"]
        )  # fmt: skip
        kinds = [k for share, k in EPISODE_SPREAD for _ in range(share)]
        for n, child in enumerate(ids):
            for row in _episodes(rng, child, kinds[n % len(kinds)]):
                out.writerow(row)
                rows += 1
    with (folder / "family_group_conferences.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["la_child_id", "held_on"])
        for child in rng.sample(ids, children // 40):
            out.writerow([child, date(2026, 1, 1) + timedelta(days=rng.randrange(300))])
            rows += 1
    return rows


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _episodes(rng: random.Random, child: str, count: int) -> list[list[str]]:
    slot = YEAR / count
    made = []
    for k in range(count):
        start = (
            YEAR_START
            + slot * k
            + timedelta(seconds=rng.randrange(int(slot.total_seconds() / 2)))
        )
        start = start.replace(microsecond=0)
        if k == count - 1 and rng.random() < 0.01:  # still missing
            made.append([child, "M", _at(start), "", "", "", "", ""])
            continue
        end = start + timedelta(
            minutes=rng.randrange(30, min(72 * 60, int(slot.total_seconds() / 120)))
        )
        offered = rng.choices(["Y", "N", "NA", ""], weights=[90, 4, 3, 3])[0]
        accepted = (rng.choices(["Y", "N", ""], weights=[75, 20, 5])[0]
                    if offered == "Y" else rng.choice(["NA", ""]))  # fmt: skip
        completed = ""
        reasons = ""
        if accepted == "Y" and rng.random() < 0.85:
            completed = _at(end + timedelta(hours=rng.randrange(2, 150)))
            reasons = ";".join(rng.sample(REASON_CODES, rng.choice([1, 1, 2])))
        made.append([child, rng.choice("MMMA"), _at(start), _at(end), offered,
                     accepted, completed, reasons])  # fmt: skip
    return made


async def record_children(url: str, children: int) -> None:
    store = SqlEventStore(create_engine(url), projectors=projectors())
    try:
        ids = child_ids(children)
        for first in range(0, len(ids), 5000):
            await store.commit(
                Commit([
                    Append(f"child-{c}", [NewEvent(ChildRecorded(
                        la_child_id=c, given_name="Ada", family_name=f"Fictitious{c}",
                        date_of_birth=date(2008, 1, 1) + timedelta(days=n % 3000),
                        looked_after=True, uasc=n % 10 == 0, placing_authority="886",
                        ola=False), actor="bench")])
                    for n, c in enumerate(ids[first : first + 5000], start=first)
                ])
            )  # fmt: skip
    finally:
        await store.close()


def run_import(
    url: str, folder: Path, profile: Path | None
) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, and the command's last line."""
    env = {**os.environ, "LANTERN_DATABASE_URL": url, "LANTERN_LOG_LEVEL": "warning"}
    lantern = str(Path(sys.executable).parent / "lantern")
    command = [lantern, "history", "import", str(folder)]
    if profile is not None:
        command = [sys.executable, "-m", "cProfile", "-o", str(profile),
                   lantern, "history", "import", str(folder)]  # fmt: skip
    began = time.perf_counter()
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    process, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        try:
            peak = max(peak, process.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    took = time.perf_counter() - began
    out = (child.stdout.read() if child.stdout else "").strip()
    if child.returncode != 0:
        raise SystemExit(f"lantern history import failed ({child.returncode}): {out}")
    return took, peak / 2**20, out.splitlines()[-1] if out else ""


async def one_run(
    database: str, folder: Path, children: int, profile: Path | None
) -> tuple[float, float, float, str]:
    fresh = fresh_sqlite() if database == "sqlite" else fresh_postgres()
    async with fresh as url:
        await record_children(url, children)
        took, peak, said = await asyncio.to_thread(run_import, url, folder, profile)
        again, _, said_again = await asyncio.to_thread(run_import, url, folder, None)
    if not said_again.startswith("recorded 0 "):
        raise SystemExit(f"the second import recorded something: {said_again}")
    return took, peak, again, said


async def main() -> None:
    parser = arguments(__doc__, runs=1)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--profile", type=Path, help="cProfile the first import here")
    args = parser.parse_args()
    quiet_logs()
    children = 8_000 if args.quick else 80_000
    with tempfile.TemporaryDirectory(prefix="bench_history_") as tmp:
        folder = Path(tmp) / "national-2026"
        folder.mkdir()
        rows = generate(folder, children)
        with conditions("history import"):
            print(f"{children:,} children, {rows:,} rows in the folder")
            table = []
            for database in [args.only] if args.only else ["sqlite", "postgres"]:
                runs = [
                    await one_run(database, folder, children, args.profile)
                    for _ in range(args.runs)
                ]
                seconds = [r[0] for r in runs]
                table.append([
                    database, spread(seconds, ",.1f"),
                    spread([rows / s for s in seconds]), spread([r[1] for r in runs]),
                    spread([r[2] for r in runs], ",.1f"), runs[0][3],
                ])  # fmt: skip
        print_table(
            "lantern history import (median (min-max) of the runs)",
            ["store", "seconds", "rows/s", "peak RSS MB", "again s", "said"],
            table,
        )


if __name__ == "__main__":
    asyncio.run(main())
