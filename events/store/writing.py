"""The store's one writer per process: commits queue up, and each group of them is
written in one transaction under the append lock (group commit), which is what keeps
positions gap-free for readers tailing the log.

Gap safety: a reader tailing by position must never see position N+1 before N is
committed, or it would skip N for ever. Positions are therefore assigned under one
store-wide lock (``pg_advisory_xact_lock`` on PostgreSQL, ``BEGIN IMMEDIATE`` on
SQLite), which PostgreSQL releases only after the commit is visible, so position order
is commit order. A lock held per commit would cap the store at one fsync per event
(the eventsourcing library's ~580 appends/s); instead, one writer task per process
drains every commit that arrived while the previous transaction ran and writes them
all in one transaction under the lock: one fsync for the whole group. On PostgreSQL
the group also takes in what queued while it waited for the lock (held by another
process), which would otherwise wait for that process and then for the lock again.
Do not "optimise" the lock away: without it a slower transaction commits a lower
position after a reader has already moved past it.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from sqlalchemy import insert, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from events import tracing
from events.envelope import Envelope, NewEvent
from events.store import Append, Commit, Recorded
from events.store.bookkeeping import write_bookkeeping
from events.store.engine import APPEND_LOCK, sqlite_writer
from events.store.keys import seal_rows
from events.store.metrics import count_appended
from events.store.notifications import CommitSignals
from events.store.planning import load_plan, plan_commit
from events.store.projections import Projections
from events.store.tables import events

LOCK = text(
    "SELECT pg_advisory_xact_lock(:key),"
    " set_config('plan_cache_mode', 'force_custom_plan', true)"
)
"""Takes the append lock, and has the next statement, the group's planning read,
planned for its values: a prepared statement otherwise switches to a generic plan
after five runs, chosen from the table as it was then, and keeps it until the next
ANALYZE. A young table's plan (a scan of its few rows) stayed as it grew: on a fresh
database under load the read cost 5 ms a commit instead of 0.5, and the database four
times the CPU per stored report (bench/README.md, intake, eighth round). The read
itself sets the mode back, so the inserts after it keep their plans."""
INSERT = insert(events)


@dataclass(slots=True)
class _Pending:
    commit: Commit
    future: asyncio.Future[Recorded] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupWriter:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        projections: Projections,
        signals: CommitSignals,
        max_batch: int,
    ) -> None:
        self._engine = engine
        self.task: asyncio.Task[None] | None = None
        self._projections = projections
        self._signals = signals
        self._postgres = engine.dialect.name == "postgresql"
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._sqlite_writer = None if self._postgres else sqlite_writer(engine)
        self._sqlite_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        *,
        expected_version: int | None,
    ) -> Recorded:
        return await self.commit(
            Commit(appends=[Append(stream_id, events, expected_version)])
        )

    async def commit(self, commit: Commit) -> Recorded:
        """Write atomically; raises ConcurrencyError if a stream moved on."""
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(
                self._write_forever(),
                name="store-writer",
                context=contextvars.Context(),  # not the first caller's span
            )
        if commit.trace_context is None and (context := tracing.current()):
            commit = replace(commit, trace_context=context)  # the caller's span
        pending = _Pending(commit)
        await self._queue.put(pending)
        return await pending.future

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            self._take_waiting(batch)
            await self._write(batch, gather=True)

    def _take_waiting(self, batch: list[_Pending]) -> None:
        """Add the commits queued meanwhile, up to the batch limit."""
        while len(batch) < self._max_batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())

    async def _write(self, batch: list[_Pending], *, gather: bool = False) -> None:
        """``gather``: the commits that queue while the group waits for the append
        lock join it (a trial of one commit alone takes none)."""
        try:
            outcomes, written = await self._transact(batch, gather=gather)
        except Exception as exc:
            if len(batch) > 1:  # one bad commit must not fail the others: try alone
                for pending in batch:
                    await self._write([pending])
                return
            if not batch[0].future.done():
                batch[0].future.set_exception(exc)
            return
        for pending, outcome in zip(batch, outcomes, strict=True):
            if pending.future.done():
                continue
            if isinstance(outcome, Exception):
                pending.future.set_exception(outcome)
            else:
                pending.future.set_result(outcome)
        count_appended(written)
        self._signals.committed([p.commit for p in batch], written)

    async def _transact(
        self, batch: list[_Pending], *, gather: bool
    ) -> tuple[list[Recorded | Exception], list[Envelope]]:
        """Each commit's outcome, and the events the group appended."""
        written: list[Envelope] = []
        if self._sqlite_writer is not None:
            outcomes = await asyncio.get_running_loop().run_in_executor(
                self._sqlite_thread,
                self._transact_sqlite,
                [p.commit for p in batch],
                written,
            )
            return outcomes, written
        async with self._engine.connect() as conn, conn.begin():
            if any(a.events for p in batch for a in p.commit.appends):
                await conn.execute(LOCK, {"key": APPEND_LOCK})
                if gather:  # they would wait for this group, then for the lock again
                    self._take_waiting(batch)
            outcomes = await conn.run_sync(
                self._in_transaction, [p.commit for p in batch], written
            )
        return outcomes, written

    def _transact_sqlite(
        self, commits: list[Commit], written: list[Envelope]
    ) -> list[Recorded | Exception]:
        """On the writer's own thread: aiosqlite would hop to its thread and back to
        the event loop for every statement, and each hop waits behind everything
        else the loop has to do; this way the whole transaction is one hop."""
        assert self._sqlite_writer is not None  # noqa: S101 - only called for SQLite
        with self._sqlite_writer.connect() as conn, conn.begin():  # BEGIN IMMEDIATE
            return self._in_transaction(conn, commits, written)

    def _in_transaction(
        self, conn: Connection, commits: list[Commit], written: list[Envelope]
    ) -> list[Recorded | Exception]:
        """The group's writes, in the transaction that holds the append lock; the
        events it appends go to ``written``."""
        postgres = self._postgres
        if not any(a.events for c in commits for a in c.appends):
            write_bookkeeping(conn, commits, postgres=postgres)  # no order to keep
            return [Recorded() for _ in commits]
        plan = load_plan(conn, commits, postgres=postgres)
        outcomes = [plan_commit(plan, c) for c in commits]
        if plan.rows:
            conn.execute(INSERT, seal_rows(conn, plan.rows))
            written += [Envelope(**row) for row in plan.rows]  # as appended: open
            self._projections.project(conn, written)
        write_bookkeeping(
            conn,
            [c for c, o in zip(commits, outcomes, strict=True)
             if not isinstance(o, Exception)],
            postgres=postgres,
        )  # fmt: skip
        return outcomes

    async def dispose(self) -> None:
        """Once the task has stopped: the SQLite connection, on the thread it is for."""
        if self._sqlite_writer is not None:
            await asyncio.get_running_loop().run_in_executor(
                self._sqlite_thread, self._sqlite_writer.dispose
            )
        self._sqlite_thread.shutdown()
