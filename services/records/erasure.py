"""Erasing a child's personal data, or a report made in error's: the store destroys
the keys that seal it (events/store/keys.py), then every read model is rebuilt by
replay, so none of them keeps what the log can no longer say."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select

from events.contracts.missing import WithdrawalReason
from events.store.sql import SqlEventStore
from services.records.tables import episodes


class NotErasableError(ValueError):
    """Only a report withdrawn as made in error is erased on its own."""


async def erase_child(store: SqlEventStore, la_child_id: str, reason: str) -> list[str]:
    """The subjects erased: the child's own and its episodes'; none when they
    were erased before (the read models are then left as they are)."""
    erased = await store.erase(reason=reason, la_child_id=la_child_id)
    if erased:
        await store.rebuild_projections()
    return erased


async def erase_report(
    store: SqlEventStore, episode_id: UUID, reason: str
) -> list[str]:
    """One episode's, when it was withdrawn as reported in error: a child never
    matched has no id of the council's to erase it by."""
    rows = await store.select(
        select(episodes.c.withdrawal_reason).where(episodes.c.episode_id == episode_id)
    )
    if not rows or rows[0][0] != WithdrawalReason.reported_in_error.value:
        raise NotErasableError(
            f"episode {episode_id} is not a report withdrawn as made in error"
        )
    erased = await store.erase(reason=reason, episode_id=str(episode_id))
    if erased:
        await store.rebuild_projections()
    return erased
