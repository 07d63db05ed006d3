"""Keeps the assessments read model from RiskAssessed and RiskReassessed events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from events.contracts.triage import RiskAssessed, RiskReassessed
from events.envelope import Envelope
from services.triage.tables import assessments

TYPES = {RiskAssessed.type_name, RiskReassessed.type_name}


class AssessmentsProjector:
    tables: Sequence[Table] = (assessments,)

    def apply(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        for envelope in envelopes:
            if envelope.type not in TYPES:
                continue
            event = cast(RiskAssessed | RiskReassessed, envelope.event)
            values = {
                "level": event.level,
                "unanswered": event.sources_missing,
                "assessed_at": event.assessed_at,
                "next_review_at": event.next_review_at,
            }
            stmt = upsert(assessments).values(episode_id=event.episode_id, **values)
            conn.execute(
                stmt.on_conflict_do_update(index_elements=["episode_id"], set_=values)
            )
