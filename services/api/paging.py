"""One way to page a list: oldest first by a position that only grows, ``limit``
rows, and a cursor that is the last row's position. Services' list routes share it,
so every list pages alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import Column, Select

from events.store.sql import SqlEventStore

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(pattern=r"^\d{1,18}$")]


async def page(
    store: SqlEventStore,
    query: Select[Any],
    position: Column[int],
    limit: int,
    cursor: str | None,
) -> tuple[Sequence[Mapping[str, Any]], str | None]:
    """The rows after ``cursor``, and the cursor of the next page (None at the end)."""
    query = query.where(position > int(cursor or 0)).order_by(position).limit(limit + 1)
    async with store.engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    more = len(rows) > limit
    return rows[:limit], str(rows[limit - 1][position.name]) if more else None
