"""The episodes read model: one row per episode, for listing a force's open ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast
from uuid import UUID

from sqlalchemy import Table, insert, update
from sqlalchemy.engine import Connection

from events.contracts.missing import (
    ChildFound,
    EpisodeReclassified,
    MissingReported,
    PoliceRiskGradeChanged,
    ReportWithdrawn,
)
from events.envelope import Envelope
from services.records.children import name_key
from services.records.tables import episodes

INSERT = insert(episodes)


class EpisodesProjector:
    tables: Sequence[Table] = (episodes,)

    def apply(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        opened = [_opened(e) for e in envelopes if e.type == MissingReported.type_name]
        if opened:
            conn.execute(INSERT, opened)
        for envelope in envelopes:
            if envelope.type == PoliceRiskGradeChanged.type_name:
                _update(conn, envelope, police_risk_grade=envelope.data["grade"])
            elif envelope.type == EpisodeReclassified.type_name:
                _update(conn, envelope, episode_type=envelope.data["episode_type"])
            elif envelope.type == ReportWithdrawn.type_name:
                reason = envelope.data["reason"]
                _update(conn, envelope, status="withdrawn", withdrawal_reason=reason)
            elif envelope.type == ChildFound.type_name:
                _update(conn, envelope, status="found")


def _opened(envelope: Envelope) -> dict[str, object]:
    report = cast(MissingReported, envelope.event)
    return {
        "episode_id": report.episode_id,
        "police_force": report.police_force,
        "police_reference": report.police_reference,
        "child_key": child_key(report),
        "status": "open",
        "withdrawal_reason": None,
        "episode_type": report.episode_type,
        "police_risk_grade": report.police_risk_grade,
        "missing_since": report.missing_since,
        "reported_at": report.reported_at,
        "opened_position": envelope.position,
        "updated_at": envelope.recorded_at,
    }


def child_key(report: MissingReported) -> str:
    """Who the child is, across episodes and forces: the council's id where intake
    matched one, else the name and date of birth as reported."""
    if report.match.la_child_id:
        return f"id:{report.match.la_child_id}"
    child = report.child
    return f"name:{name_key(child.given_name, child.family_name)}|{child.date_of_birth}"


def _update(conn: Connection, envelope: Envelope, **values: object) -> None:
    conn.execute(
        update(episodes)
        .where(episodes.c.episode_id == UUID(envelope.data["episode_id"]))
        .values(updated_at=envelope.recorded_at, **values)
    )
