"""The projectors' two runs: over each group's new events inside its append transaction,
so a read model is never behind an acknowledged append, and over the whole log when
the read models are rebuilt.

A rebuild is one transaction under the append lock, so it may run while the services
do: whoever appends meanwhile waits for it (and so is projected once, after it), and
readers see the old read models until it commits, never half-rebuilt ones.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from events.envelope import Envelope
from events.store import Projector
from events.store.engine import APPEND_LOCK, WRITE
from events.store.reading import LogReader

TAKE_APPEND_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def _quiet(done: int, total: int) -> None:
    """No progress to show."""


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

    async def rebuild(
        self,
        *,
        page_size: int = 5000,
        progress: Callable[[int, int], None] = _quiet,
    ) -> int:
        """Empty the read models, then replay the whole log into them; ``progress``
        is told the events replayed so far, and of how many, after each page."""
        async with self._engine.connect() as conn:
            conn = await conn.execution_options(**{WRITE: True})  # SQLite: locked
            async with conn.begin():
                if self._engine.dialect.name == "postgresql":
                    await conn.execute(TAKE_APPEND_LOCK, {"key": APPEND_LOCK})
                total = await self._log.head()
                for projector in self.projectors:
                    for table in reversed(projector.tables):
                        await conn.execute(table.delete())
                after = count = 0
                while page := await self._log.read_all(after=after, limit=page_size):
                    await conn.run_sync(self.project, page)
                    after, count = page[-1].position, count + len(page)
                    progress(count, total)
        return count
