"""The episodes read model: one row per episode, for listing a force's open ones; and
the roles alerted about each, which intake shows the police without reading the
notifier's tables (the notifier records them on ``AlertRaised``)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import cast
from uuid import UUID

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable

from events.contracts.alerts import AlertRaised
from events.contracts.missing import (
    ChildFound,
    EpisodeReclassified,
    MissingReported,
    PoliceRiskGradeChanged,
    ReportWithdrawn,
)
from events.envelope import Envelope
from events.store import Reads
from services.records.children import name_key
from services.records.tables import alerted_roles, episodes

INSERT = insert(episodes)
ROLES = (
    select(alerted_roles.c.role)
    .where(alerted_roles.c.episode_id == bindparam("episode_id"))
    .order_by(alerted_roles.c.first_alerted_at, alerted_roles.c.role)
)


class EpisodesProjector:
    tables: Sequence[Table] = (episodes, alerted_roles)

    def apply(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        opened = [_opened(e) for e in envelopes if e.type == MissingReported.type_name]
        if opened:
            conn.execute(INSERT, opened)
        roles = _alerted(e for e in envelopes if e.type == AlertRaised.type_name)
        if roles:
            conn.execute(_insert_roles(conn.dialect.name == "postgresql"), roles)
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


async def roles_alerted(reads: Reads, episode_id: UUID) -> list[str]:
    """In the order they were first alerted."""
    return [row.role for row in await reads.select(ROLES, {"episode_id": episode_id})]


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


def _alerted(raised: Iterable[Envelope]) -> list[dict[str, object]]:
    """One row per (episode, role) of the group: the first alert of each."""
    rows: dict[tuple[UUID, str], dict[str, object]] = {}
    for envelope in raised:
        alert = cast(AlertRaised, envelope.event)
        rows.setdefault(
            (alert.episode_id, alert.role),
            {
                "episode_id": alert.episode_id,
                "role": alert.role,
                "first_alerted_at": alert.raised_at,
            },
        )
    return list(rows.values())


@functools.cache
def _insert_roles(postgres: bool) -> Executable:
    """A role already alerted about the episode stays as it was first recorded."""
    upsert = pg_insert if postgres else sqlite_insert
    return upsert(alerted_roles).on_conflict_do_nothing(
        index_elements=["episode_id", "role"]
    )


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
