"""The children directory: a read model of ChildRecorded events, and matching.

Intake matches a reported child by the council's id, else by name and date of birth;
the episode records whether that matched one child, several, or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.contracts.children import ChildRecorded
from events.contracts.missing import Child, ChildMatch
from events.envelope import Envelope
from services.records.tables import children


def name_key(given_name: str, family_name: str) -> str:
    return " ".join(f"{given_name} {family_name}".casefold().split())


def child_stream(la_child_id: str) -> str:
    return f"child-{la_child_id}"


def match_of(by_id: str | None, by_name: Sequence[str]) -> ChildMatch:
    if by_id is not None:
        return ChildMatch(status="matched", la_child_id=by_id, candidates=1)
    if len(by_name) == 1:
        return ChildMatch(status="matched", la_child_id=by_name[0], candidates=1)
    if by_name:
        return ChildMatch(status="ambiguous", candidates=len(by_name))
    return ChildMatch(status="unmatched")


async def match_child(engine: AsyncEngine, child: Child) -> ChildMatch:
    """One query for both ways of matching: by id, and by name and date of birth."""
    same_person = and_(
        children.c.name_key == name_key(child.given_name, child.family_name),
        children.c.date_of_birth == child.date_of_birth,
    )
    query = select(children.c.la_child_id).where(
        or_(children.c.la_child_id == child.la_child_id, same_person)
        if child.la_child_id
        else same_person
    )
    async with engine.connect() as conn:
        found = list((await conn.execute(query)).scalars())
    by_id = child.la_child_id if child.la_child_id in found else None
    return match_of(by_id, found)


async def child_record(engine: AsyncEngine, la_child_id: str) -> ChildRecorded | None:
    async with engine.connect() as conn:
        record = await conn.scalar(
            select(children.c.record).where(children.c.la_child_id == la_child_id)
        )
    return ChildRecorded.model_validate(record) if record else None


class DirectoryProjector:
    tables: Sequence[Table] = (children,)

    async def apply(self, conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            if envelope.type != ChildRecorded.type_name:
                continue
            record = cast(ChildRecorded, envelope.event)
            upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            values = {
                "la_child_id": record.la_child_id,
                "name_key": name_key(record.given_name, record.family_name),
                "date_of_birth": record.date_of_birth,
                "record": record.model_dump(mode="json"),
                "looked_after": record.looked_after,
            }
            stmt = upsert(children).values(**values)
            await conn.execute(
                stmt.on_conflict_do_update(index_elements=["la_child_id"], set_=values)
            )
