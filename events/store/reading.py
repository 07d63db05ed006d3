"""Reads of the log and of checkpoints, each one statement outside any transaction of
the caller's, by the cheapest path each database has: subscribers and the relay read
per event and per page, so the cost around each read is what adds up."""

from __future__ import annotations

import asyncio
from collections.abc import Container, Mapping, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Text, bindparam, cast, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from events.envelope import Envelope, JsonText
from events.store import Page
from events.store.engine import reader, sqlite_reader
from events.store.keys import open_texts
from events.store.tables import checkpoints, events

ENVELOPE = [
    cast(events.c.data, Text) if name == "data" else events.c[name]
    for name in Envelope._fields
]
"""The columns in the envelope's field order, so a row builds one by position; the
payload as its text, decoded only if it is read (``JsonText``)."""
CHECKPOINTS = select(checkpoints.c.partition, checkpoints.c.position).where(
    checkpoints.c.subscriber == bindparam("subscriber")
)
READ_ALL = (
    "SELECT "  # noqa: S608 - column names only
    + ", ".join(f"{f}::text" if f == "data" else f for f in Envelope._fields)
    + " FROM events WHERE position > $1 ORDER BY position LIMIT $2"
)
STREAM = (
    select(*ENVELOPE)
    .where(
        events.c.stream_id == bindparam("stream_id"),
        events.c.stream_version > bindparam("after"),
    )
    .order_by(events.c.stream_version)
)
PAGE = (
    select(*ENVELOPE)
    .where(events.c.position > bindparam("after"))
    .order_by(events.c.position)
    .limit(bindparam("limit"))
)
"""Statements read often are built once, with their values as parameters: SQLAlchemy
then skips building the statement and its cache key per read (2.5x the cost of the
read itself on SQLite, ``bench/README.md``)."""
DATA, POSITION, TYPE = (Envelope._fields.index(f) for f in ("data", "position", "type"))


class LogReader:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.reader = reader(engine)
        self._postgres = engine.dialect.name == "postgresql"
        self._sqlite_reader = None if self._postgres else sqlite_reader(engine)

    async def read_stream(
        self, stream_id: str, *, after_version: int = 0
    ) -> list[Envelope]:
        return await self._envelopes(
            STREAM, {"stream_id": stream_id, "after": after_version}
        )

    async def read_all(self, *, after: int = 0, limit: int = 1000) -> list[Envelope]:
        """Everything after ``after``, in position order."""
        return (await self.read_page(after=after, limit=limit)).envelopes

    async def read_page(
        self, *, after: int, limit: int, types: Container[str] | None = None
    ) -> Page:
        """Up to ``limit`` events after ``after``, in position order, with envelopes
        built only for ``types`` (all when None): the catch-up hot path. A subscriber
        passes most events by, and an envelope costs more to build than its row."""
        rows = await self._rows_after(after, limit)
        wanted = rows if types is None else [r for r in rows if r[TYPE] in types]
        return Page(
            await self._opened(wanted),
            read=len(rows),
            last=rows[-1][POSITION] if rows else after,
        )

    async def _rows_after(self, after: int, limit: int) -> Sequence[Sequence[Any]]:
        if self._postgres:  # straight to asyncpg: a third of the cost per row
            async with self._engine.connect() as conn:
                raw = (await conn.get_raw_connection()).driver_connection
                assert raw is not None  # noqa: S101 - a pooled connection is live
                records: list[Any] = await raw.fetch(READ_ALL, after, limit)
            return records
        return await self.select(PAGE, {"after": after, "limit": limit})

    async def select(
        self, query: Executable, params: Mapping[str, Any] | None = None
    ) -> Sequence[Any]:
        """The rows of one statement, read outside any transaction of the caller's:
        on PostgreSQL in autocommit; on SQLite right here, on the event loop's thread.
        In WAL mode a read never waits for the writer, and it costs less than a hop
        to a thread would: under load such a thread waits for the GIL the loop holds
        (5.5 ms of wall time for 0.6 ms of work, measured with bench/notifier.py).
        It still yields to the loop first, as any I/O would: a subscription catching
        up on events it passes by reads page after page and must not starve the rest."""
        if self._sqlite_reader is None:
            async with self.reader.connect() as conn:
                return (await conn.execute(query, params)).all()
        await asyncio.sleep(0)
        with self._sqlite_reader.connect() as conn:
            return conn.execute(query, params).all()

    async def read_event(self, event_id: UUID) -> Envelope | None:
        found = await self._envelopes(
            select(*ENVELOPE).where(events.c.event_id == event_id)
        )
        return found[0] if found else None

    async def head(self) -> int:
        async with self._engine.connect() as conn:
            top = await conn.scalar(
                select(func.coalesce(func.max(events.c.position), 0))
            )
        return int(top or 0)

    async def checkpoint(self, subscriber: str, partition: str) -> int:
        async with self._engine.connect() as conn:
            found = await conn.scalar(
                select(checkpoints.c.position).where(
                    checkpoints.c.subscriber == subscriber,
                    checkpoints.c.partition == partition,
                )
            )
        return int(found or 0)

    async def checkpoints(self, subscriber: str) -> dict[str, int]:
        """Every checkpoint of ``subscriber``, by partition, in one statement."""
        rows = await self.select(CHECKPOINTS, {"subscriber": subscriber})
        return {partition: int(position) for partition, position in rows}

    async def read_where(self, *criteria: Any) -> list[Envelope]:
        """The events that meet ``criteria`` (on ``events``' columns), in order."""
        return await self._envelopes(
            select(*ENVELOPE).where(*criteria).order_by(events.c.position)
        )

    async def _envelopes(
        self, query: Executable, params: Mapping[str, Any] | None = None
    ) -> list[Envelope]:
        return await self._opened(await self.select(query, params))

    async def _opened(self, rows: Sequence[Sequence[Any]]) -> list[Envelope]:
        """Envelopes of the rows, their personal fields opened with their keys
        (or read as erased): every read of the log comes this way."""
        opened = await open_texts(self.select, (row[DATA] for row in rows))
        if not opened:
            return [_lazy(row) for row in rows]
        return [_lazy(row, opened.get(row[DATA])) for row in rows]

    def dispose(self) -> None:
        if self._sqlite_reader is not None:
            self._sqlite_reader.dispose()


def _lazy(record: Any, text: str | None = None) -> Envelope:
    values = list(record)
    values[DATA] = JsonText(text or values[DATA])
    return Envelope._make(values)
