"""SqlEventStore: the append-only log on PostgreSQL or SQLite, as one object for its
callers. Each role lives in a module beside this one; the store builds them and binds
their methods to itself, so no caller sees the split and no call goes through it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from events.store import Projector
from events.store.engine import WRITE
from events.store.keys import erase_keys
from events.store.notifications import CommitSignals
from events.store.parking import ParkedMessages
from events.store.projections import Projections
from events.store.reading import LogReader
from events.store.writing import GroupWriter


class SqlEventStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        projectors: Sequence[Projector] = (),
        max_batch: int = 500,
    ) -> None:
        self.engine = engine
        self._log = log = LogReader(engine)
        self._signals = signals = CommitSignals(engine)
        projections = Projections(engine, tuple(projectors), log)
        self._writer = writer = GroupWriter(
            engine, projections=projections, signals=signals, max_batch=max_batch
        )
        parking = ParkedMessages(engine)
        self.reader, self.projectors = log.reader, projections.projectors
        self.append, self.commit = writer.append, writer.commit
        self.written, self.changes = signals.written, signals.changes
        self.read_stream, self.read_all = log.read_stream, log.read_all
        self.read_page, self.read_event = log.read_page, log.read_event
        self.read_where = log.read_where
        self.select, self.head, self.checkpoint = log.select, log.head, log.checkpoint
        self.checkpoints = log.checkpoints
        self.parked, self.request_redrive = parking.parked, parking.request_redrive
        self.rebuild_projections = projections.rebuild

    async def erase(
        self,
        *,
        reason: str,
        la_child_id: str | None = None,
        episode_id: str | None = None,
    ) -> list[str]:
        """Destroy the keys of a child (and of its episodes) or of one episode
        (events/store/keys.py): the subjects erased. The read models still hold
        what they were built from until ``rebuild_projections``."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**{WRITE: True})  # SQLite: locked
            async with conn.begin():
                return await conn.run_sync(
                    functools.partial(
                        erase_keys,
                        reason=reason,
                        la_child_id=la_child_id,
                        episode_id=episode_id,
                    )
                )

    async def close(self) -> None:
        for task in (self._writer.task, self._signals.listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._writer.dispose()
        self._log.dispose()
        await self.engine.dispose()
