"""Recording a council's history through the store: the children on record read once,
the folder checked whole (files.py), then its events (plan.py) appended in big
commits, each child's events in one. Each event is its own append, so the store
passes by one it already holds (its id is derived): a second import, or one run
again after it was stopped half way, records only what is missing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from events.contracts.children import ChildRecorded
from events.contracts.returns import Deadline
from events.history import history_actor
from events.store import Append, Commit
from events.store.sql import SqlEventStore
from services.history.files import COLUMNS, History, parse_history
from services.history.plan import Entry, history_entries
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
    records = await children_on_record(store)
    history, problems = read_folder(folder, records, now)
    if problems:
        return Imported(problems)
    total = len(history.children())
    progress(0, total)
    recorded = await record_history(
        store,
        history,
        records,
        source=source,
        deadline=deadline,
        now=now,
        progress=lambda done: progress(done, total),
    )
    return Imported([], recorded, total)


async def children_on_record(store: SqlEventStore) -> dict[str, object]:
    """Each child's record as stored (JSON), by id; decoded only when needed."""
    rows = await store.select(select(children.c.la_child_id, children.c.record))
    return {row[0]: row[1] for row in rows}


def read_folder(
    folder: Path, known: Mapping[str, object], now: datetime
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
    records: Mapping[str, object],
    *,
    source: str,
    deadline: Deadline,
    now: datetime,
    progress: Callable[[int], None],
) -> int:
    """Append the history's events; returns how many were new. ``progress`` is told
    how many children are done after each commit."""
    wanted = history.children()
    decoded = {i: ChildRecorded.model_validate(records[i]) for i in wanted}
    groups = history_entries(
        history, decoded, deadline=deadline, now=now, actor=history_actor(source)
    )
    recorded = 0
    for done, batch in _batches(groups):
        outcome = await store.commit(Commit(appends=batch))
        recorded += len(outcome.positions)
        progress(done)
    return recorded


def _batches(groups: Iterable[list[Entry]]) -> Iterable[tuple[int, list[Append]]]:
    """Whole children's events, about ``BATCH_EVENTS`` a batch; with the count of
    children done once it is written."""
    batch: list[Append] = []
    done = 0
    for done, entries in enumerate(groups, start=1):
        batch += [Append(stream, [new]) for stream, new in entries]
        if len(batch) >= BATCH_EVENTS:
            yield done, batch
            batch = []
    if batch:
        yield done, batch
