"""Keeps the assessments read model from RiskAssessed and RiskReassessed events."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import cast
from uuid import UUID

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable

from events.contracts.triage import RiskAssessed, RiskReassessed
from events.envelope import Envelope
from services.triage.tables import assessments

TYPES = {RiskAssessed.type_name, RiskReassessed.type_name}


class AssessmentsProjector:
    tables: Sequence[Table] = (assessments,)

    def apply(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        """The group's assessments in one statement (it runs under the append lock),
        the last of each episode's: one statement per event made up most of
        triage's transactions."""
        latest: dict[UUID, dict[str, object]] = {}
        for envelope in envelopes:
            if envelope.type in TYPES:
                event = cast(RiskAssessed | RiskReassessed, envelope.event)
                latest[event.episode_id] = {
                    "episode_id": event.episode_id,
                    "level": event.level,
                    "unanswered": event.sources_missing,
                    "assessed_at": event.assessed_at,
                    "next_review_at": event.next_review_at,
                }
        if not latest:
            return
        conn.execute(
            _upsert(conn.dialect.name == "postgresql"),
            list(latest.values()),
        )


@functools.cache
def _upsert(postgres: bool) -> Executable:
    """Built once: building it per group cost more than running it."""
    stmt = (pg_insert if postgres else sqlite_insert)(assessments)
    changed = ("level", "unanswered", "assessed_at", "next_review_at")
    return stmt.on_conflict_do_update(
        index_elements=["episode_id"],
        set_={column: stmt.excluded[column] for column in changed},
    )
