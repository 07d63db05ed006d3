"""Parked messages: those a subscriber gave up on, set aside in its commit so the rest
can flow, listed where staff can see them, and marked for redrive so the subscriber
tries them again."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from events.envelope import utcnow
from events.store import ParkedMessage, Parking
from events.store.tables import parked_messages

_PARKED_FIELDS = (
    "id", "subscriber", "event_id", "event_type", "partition", "position",
    "attempts", "error", "status",
)  # fmt: skip


def park(conn: Connection, parking: Parking, *, postgres: bool) -> None:
    stmt = (pg_insert if postgres else sqlite_insert)(parked_messages).values(
        subscriber=parking.subscriber,
        event_id=parking.envelope.event_id,
        event_type=parking.envelope.type,
        partition=parking.partition,
        position=parking.position,
        attempts=parking.attempts,
        error=parking.error,
        status="parked",
        parked_at=utcnow(),
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["subscriber", "event_id"],
            set_={
                "attempts": parked_messages.c.attempts + stmt.excluded.attempts,
                "error": stmt.excluded.error,
                "status": "parked",
                "parked_at": stmt.excluded.parked_at,
            },
        )
    )


def resolve(conn: Connection, parked_id: int) -> None:
    conn.execute(
        update(parked_messages)
        .where(parked_messages.c.id == parked_id)
        .values(status="resolved", resolved_at=utcnow())
    )


class ParkedMessages:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def parked(
        self, *, subscriber: str | None = None, status: str | None = "parked"
    ) -> list[ParkedMessage]:
        query = select(parked_messages).order_by(parked_messages.c.id)
        if subscriber is not None:
            query = query.where(parked_messages.c.subscriber == subscriber)
        if status is not None:
            query = query.where(parked_messages.c.status == status)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [ParkedMessage(**{k: r[k] for k in _PARKED_FIELDS}) for r in rows]

    async def request_redrive(self, ids: Iterable[int] | None = None) -> int:
        """Mark parked messages for their subscriber to try again; returns how many."""
        stmt = update(parked_messages).where(parked_messages.c.status == "parked")
        if ids is not None:
            stmt = stmt.where(parked_messages.c.id.in_(list(ids)))
        async with self._engine.begin() as conn:
            result = await conn.execute(stmt.values(status="redrive"))
        return int(result.rowcount)
