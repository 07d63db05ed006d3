"""A reader tailing by position never skips an event that commits late.

Writers are separate stores (their own engines and group-commit writers, as separate
processes would be), racing on PostgreSQL while a reader tails the log. If positions
could commit out of order, the reader would move past a lower position before it
became visible and never see it.
"""

from __future__ import annotations

import asyncio
import itertools

from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from tests.builders import a_stream, happened

WRITER_PROCESSES = 6
TASKS_PER_PROCESS = 8
APPENDS_PER_TASK = 40


async def test_tailing_reader_sees_every_committed_event_once_in_order(
    pg_database: str,
):
    stores = [
        SqlEventStore(create_engine(pg_database)) for _ in range(WRITER_PROCESSES)
    ]
    reader = SqlEventStore(create_engine(pg_database))
    committed: set[object] = set()
    seen: list[tuple[int, object]] = []
    writing = True

    async def write(store: SqlEventStore) -> None:
        stream = a_stream()
        for version in range(APPENDS_PER_TASK):
            event = happened(version)
            await store.append(stream, [event], expected_version=version)
            committed.add(event.event_id)

    async def tail() -> None:
        after = 0
        while writing or after < await reader.head():
            for envelope in await reader.read_all(after=after, limit=100):
                seen.append((envelope.position, envelope.event_id))
                after = envelope.position

    tailing = asyncio.create_task(tail())
    try:
        await asyncio.gather(
            *(write(s) for s, _ in itertools.product(stores, range(TASKS_PER_PROCESS)))
        )
    finally:
        writing = False
        await tailing
        for store in [*stores, reader]:
            await store.close()

    positions = [p for p, _ in seen]
    assert positions == sorted(positions), "the reader saw positions out of order"
    assert len(positions) == len(set(positions)), "the reader saw an event twice"
    assert {e for _, e in seen} == committed, "the reader skipped committed events"
    assert len(committed) == WRITER_PROCESSES * TASKS_PER_PROCESS * APPENDS_PER_TASK
