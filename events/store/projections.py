"""The projectors' two runs: over each group's new events inside its append transaction,
so a read model is never behind an acknowledged append, and over the whole log when
the read models are rebuilt."""

from __future__ import annotations

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from events.envelope import Envelope
from events.store import Projector
from events.store.reading import LogReader


class Projections:
    def __init__(
        self, engine: AsyncEngine, projectors: tuple[Projector, ...], log: LogReader
    ) -> None:
        self._engine = engine
        self.projectors = projectors
        self._log = log

    def project(self, conn: Connection, envelopes: list[Envelope]) -> None:
        for projector in self.projectors:
            projector.apply(conn, envelopes)

    async def rebuild(self, *, page_size: int = 5000) -> int:
        """Empty the read models, then replay the whole log into them."""
        async with self._engine.begin() as conn:
            for projector in self.projectors:
                for table in reversed(projector.tables):
                    await conn.execute(table.delete())
        after = count = 0
        while page := await self._log.read_all(after=after, limit=page_size):
            async with self._engine.begin() as conn:
                await conn.run_sync(self.project, page)
            after, count = page[-1].position, count + len(page)
        return count
