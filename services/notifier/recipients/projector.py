"""The `recipients` table, kept from the directory's events; reading it, and
recording changes to it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from events.contracts.recipients import RecipientRecorded, RecipientRemoved
from events.envelope import Envelope, NewEvent
from events.store import Append, Commit, Reads
from events.store.sql import SqlEventStore
from events.streams import Category, stream_name
from services.notifier.recipients.entries import directory_of, listing_order, slot_of
from services.notifier.recipients.tables import recipients
from services.notifier.routing import Directory


class SlotTakenError(Exception):
    """A concurrent change gave another recipient the same place first."""


class RecipientsProjector:
    tables: Sequence[Table] = (recipients,)

    def apply(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            if envelope.type == RecipientRecorded.type_name:
                _upsert(conn, cast(RecipientRecorded, envelope.event))
            elif envelope.type == RecipientRemoved.type_name:
                removed = cast(RecipientRemoved, envelope.event)
                conn.execute(
                    delete(recipients).where(
                        recipients.c.recipient_id == removed.recipient_id
                    )
                )


def _upsert(conn: Connection, entry: RecipientRecorded) -> None:
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    values = {**entry.model_dump(mode="json"), "slot": slot_of(entry)}
    stmt = upsert(recipients).values(**values)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["recipient_id"], set_=values)
    )


LISTING = select(*(c for c in recipients.c if c.name != "slot"))


async def list_recipients(reads: Reads) -> list[RecipientRecorded]:
    """The whole directory, in routing's order."""
    rows = await reads.select(LISTING)
    entries = [RecipientRecorded.model_validate(dict(row._mapping)) for row in rows]
    return sorted(entries, key=listing_order)


async def load_directory(reads: Reads) -> Directory:
    return directory_of(await list_recipients(reads))


async def record(
    store: SqlEventStore,
    changes: Sequence[RecipientRecorded | RecipientRemoved],
    *,
    actor: str,
) -> None:
    """Record all the changes or none. The table's unique slot refuses a place that
    a concurrent change took after the caller checked: SlotTakenError."""
    appends = [
        Append(
            stream_name(Category.recipient, c.recipient_id),
            [NewEvent(event=c, actor=actor)],
        )
        for c in changes
    ]
    try:
        await store.commit(Commit(appends=appends))
    except IntegrityError as exc:
        raise SlotTakenError from exc


async def remove(store: SqlEventStore, recipient_id: str, *, actor: str) -> bool:
    """False, and nothing recorded, when there is no such recipient."""
    entries = await list_recipients(store)
    if all(e.recipient_id != recipient_id for e in entries):
        return False
    await record(store, [RecipientRemoved(recipient_id=recipient_id)], actor=actor)
    return True
