"""The children's records: a read model of ChildRecorded events, and matching.

Intake matches a reported child by the council's id, else by name and date of birth;
the episode records whether that matched one child, several, or none.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple, Protocol, cast

from sqlalchemy import Table, bindparam, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable

from events.contracts.children import ChildRecorded
from events.contracts.missing import ChildMatch
from events.envelope import Envelope
from events.store import Reads
from services.records.tables import children

MATCHES = select(
    children.c.la_child_id, children.c.name_key, children.c.date_of_birth
).where(
    or_(
        children.c.la_child_id.in_(bindparam("ids", expanding=True)),
        tuple_(children.c.name_key, children.c.date_of_birth).in_(
            bindparam("people", expanding=True)
        ),
    )
)
"""Directory rows matching a batch's children by id, or by name and date of birth.
Built once: building a statement per read cost more than the read (bench/README.md)."""
RECORD = select(children.c.record).where(
    children.c.la_child_id == bindparam("la_child_id")
)


def name_key(given_name: str, family_name: str) -> str:
    return " ".join(f"{given_name} {family_name}".casefold().split())


def match_of(by_id: str | None, by_name: Sequence[str]) -> ChildMatch:
    if by_id is not None:
        return ChildMatch(status="matched", la_child_id=by_id, candidates=1)
    if len(by_name) == 1:
        return ChildMatch(status="matched", la_child_id=by_name[0], candidates=1)
    if by_name:
        return ChildMatch(status="ambiguous", candidates=len(by_name))
    return ChildMatch(status="unmatched")


class ChildToMatch(Protocol):
    """A reported child as matching sees it: the event's, or the request's."""

    @property
    def la_child_id(self) -> str | None: ...
    @property
    def given_name(self) -> str: ...
    @property
    def family_name(self) -> str: ...
    @property
    def date_of_birth(self) -> date: ...


_Waiting = tuple[ChildToMatch, asyncio.Future[ChildMatch]]
"""A reported child and the request waiting for its match."""


class ChildMatcher:
    """Matches reported children by the council's id, else by name and date of birth.

    Reports that arrive while a lookup is out wait for the next one, which asks for
    all of them in one query: under load, one round trip serves many requests. If
    that query fails, each report is looked up alone, so a report that cannot be
    looked up (text the database refuses) fails alone and the others are answered."""

    def __init__(self, reads: Reads) -> None:
        self.reads = reads
        self._waiting: list[_Waiting] = []
        self._lookup: asyncio.Task[None] | None = None

    async def match(self, child: ChildToMatch) -> ChildMatch:
        future: asyncio.Future[ChildMatch] = asyncio.get_running_loop().create_future()
        self._waiting.append((child, future))
        if self._lookup is None or self._lookup.done():
            self._lookup = asyncio.create_task(self._look_up_waiting())
        return await future

    async def _look_up_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            await self._answer(batch)

    async def _answer(self, batch: list[_Waiting]) -> None:
        try:
            found = await self._found([child for child, _ in batch])
        except Exception as exc:
            if len(batch) > 1:  # ask for each alone: one bad member fails alone
                await asyncio.gather(*(self._answer([member]) for member in batch))
            elif not batch[0][1].done():
                batch[0][1].set_exception(exc)
            return
        for child, future in batch:
            if not future.done():
                future.set_result(_match_in(found, child))

    async def _found(self, wanted: list[ChildToMatch]) -> list[_Found]:
        ids = list({c.la_child_id for c in wanted if c.la_child_id})
        people = list({_person(c) for c in wanted})
        rows = await self.reads.select(MATCHES, {"ids": ids, "people": people})
        return [_Found(row[0], (row[1], row[2])) for row in rows]


class _Found(NamedTuple):
    la_child_id: str
    person: tuple[str, date]


def _person(child: ChildToMatch) -> tuple[str, date]:
    return name_key(child.given_name, child.family_name), child.date_of_birth


def _match_in(found: Sequence[_Found], child: ChildToMatch) -> ChildMatch:
    """One child's match among the directory rows found for a whole batch."""
    ids = {f.la_child_id for f in found}
    by_id = child.la_child_id if child.la_child_id in ids else None
    person = _person(child)
    return match_of(by_id, [f.la_child_id for f in found if f.person == person])


async def child_record(reads: Reads, la_child_id: str) -> ChildRecorded | None:
    rows = await reads.select(RECORD, {"la_child_id": la_child_id})
    return ChildRecorded.model_validate(rows[0][0]) if rows else None


class ChildrenProjector:
    tables: Sequence[Table] = (children,)

    def apply(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        """One upsert for the batch's records (the last of each child wins): a
        statement built per record cost more than writing it (a history import)."""
        latest: dict[str, dict[str, object]] = {}
        for envelope in envelopes:
            if envelope.type != ChildRecorded.type_name:
                continue
            record = cast(ChildRecorded, envelope.event)
            latest[record.la_child_id] = {
                "la_child_id": record.la_child_id,
                "name_key": name_key(record.given_name, record.family_name),
                "date_of_birth": record.date_of_birth,
                "record": record.model_dump(mode="json"),
                "looked_after": record.looked_after,
            }
        if latest:
            conn.execute(
                _upsert(conn.dialect.name == "postgresql"), list(latest.values())
            )


@functools.cache
def _upsert(postgres: bool) -> Executable:
    stmt = (pg_insert if postgres else sqlite_insert)(children)
    return stmt.on_conflict_do_update(
        index_elements=["la_child_id"],
        set_={c: stmt.excluded[c] for c in UPSERTED},
    )


UPSERTED = ("name_key", "date_of_birth", "record", "looked_after")
