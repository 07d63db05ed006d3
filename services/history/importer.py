"""Recording a council's history through the store: the ids of the children on record
read once, the folder checked whole (files.py), then its events (plan.py) made from
the children's records, a thousand at a time, and appended in big commits, each
child's events in one. Each event is its own append, so the store
passes by one it already holds (its id is derived): a second import, or one run
again after it was stopped half way, records only what is missing."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import bindparam, select

from events.contracts.children import ChildRecorded
from events.contracts.returns import Deadline
from events.history import history_actor
from events.store import Append, Commit, Recorded
from events.store.sql import SqlEventStore
from services.history.files import COLUMNS, History, parse_history
from services.history.plan import history_entries
from services.records.tables import children

BATCH_EVENTS = 5000
"""Events per commit: one transaction, one round of the projectors."""


def _quiet(done: int, total: int) -> None:
    """No progress to show."""


@dataclass(frozen=True)
class Imported:
    problems: list[str]
    recorded: int = 0
    children: int = 0


async def import_folder(
    store: SqlEventStore,
    folder: Path,
    *,
    source: str,
    deadline: Deadline,
    now: datetime,
    progress: Callable[[int, int], None] = _quiet,
) -> Imported:
    """Check the whole folder, then record it, or nothing if one row is bad.
    ``source``: the folder's name, in each event's actor. ``progress``: children
    done, of how many, after each commit."""
    known = await children_on_record(store)
    history, problems = read_folder(folder, known, now)
    if problems:
        return Imported(problems)
    total = len(history.children())
    progress(0, total)
    recorded = await record_history(
        store,
        history,
        source=source,
        deadline=deadline,
        now=now,
        progress=lambda done: progress(done, total),
    )
    return Imported([], recorded, total)


RECORDS = select(children.c.la_child_id, children.c.record).where(
    children.c.la_child_id.in_(bindparam("ids", expanding=True))
)
CHUNK = 1000
"""Children whose records are read together: never the whole directory at once."""


async def children_on_record(store: SqlEventStore) -> set[str]:
    return {row[0] for row in await store.select(select(children.c.la_child_id))}


def read_folder(
    folder: Path, known: Container[str], now: datetime
) -> tuple[History, list[str]]:
    """The folder's files (any of the three; the others are left alone), checked."""
    present = [name for name in COLUMNS if (folder / name).is_file()]
    if not present:
        return History(), [f"{folder}: holds none of {', '.join(COLUMNS)}"]
    handles = [(folder / n).open(encoding="utf-8-sig", newline="") for n in present]
    try:
        return parse_history(dict(zip(present, handles, strict=True)), known, now)
    finally:
        for handle in handles:
            handle.close()


async def record_history(
    store: SqlEventStore,
    history: History,
    *,
    source: str,
    deadline: Deadline,
    now: datetime,
    progress: Callable[[int], None],
) -> int:
    """Append the history's events; returns how many were new. ``progress`` is told
    how many children are done after each commit."""
    planned = history_entries(
        history, deadline=deadline, now=now, actor=history_actor(source)
    )
    writer = _Writer(store, progress)
    batch: list[Append] = []
    done = 0
    while chunk := list(itertools.islice(planned, CHUNK)):
        rows = await store.select(RECORDS, {"ids": [i for i, _ in chunk]})
        records = {row[0]: row[1] for row in rows}
        for la_child_id, make in chunk:
            record = ChildRecorded.model_validate(records[la_child_id])
            batch += [Append(stream, [new]) for stream, new in make(record)]
            done += 1
            if len(batch) >= BATCH_EVENTS:
                await writer.write(batch, done)
                batch = []
            if done % 20 == 0:
                await asyncio.sleep(0)  # PostgreSQL: the commit in flight moves on
    if batch:
        await writer.write(batch, done)
    return await writer.finished()


class _Writer:
    """One commit in flight while the next is made: the store writes it (SQLite on
    its own thread, PostgreSQL whenever this awaits) as events are being built."""

    def __init__(self, store: SqlEventStore, progress: Callable[[int], None]) -> None:
        self.store, self.progress = store, progress
        self.recorded = 0
        self.writing: tuple[asyncio.Future[Recorded], int] | None = None

    async def write(self, batch: list[Append], done: int) -> None:
        """``done``: children whose events are all in this batch or before it."""
        commit = asyncio.ensure_future(self.store.commit(Commit(appends=batch)))
        await self.finished()
        self.writing = (commit, done)

    async def finished(self) -> int:
        if self.writing is not None:
            commit, done = self.writing
            self.writing = None
            self.recorded += len((await commit).positions)
            self.progress(done)
        return self.recorded
