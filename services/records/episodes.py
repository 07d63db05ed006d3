"""The episodes read model: one row per episode, for listing a force's open ones; and
the roles alerted about each, which intake shows the police without reading the
notifier's tables (the notifier records them on ``AlertRaised``)."""

from __future__ import annotations

import functools
import itertools
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
from events.personal import ERASED
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
        changes = [
            (e.type, _change(e)) for e in envelopes if e.type in UPDATES
        ]  # in order; a run of one kind is one executemany (a history import's found)
        for kind, run in itertools.groupby(changes, key=lambda change: change[0]):
            conn.execute(UPDATES[kind], [params for _, params in run])


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
    matched one, else the name and date of birth as reported (or, erased, none)."""
    if report.match.la_child_id:
        return f"id:{report.match.la_child_id}"
    child = report.child
    if child.given_name == ERASED:  # no name to know them by: this episode alone
        return f"episode:{report.episode_id}"
    return f"name:{name_key(child.given_name, child.family_name)}|{child.date_of_birth}"


def _update_of(*columns: str) -> Executable:
    return (
        update(episodes)
        .where(episodes.c.episode_id == bindparam("v_episode_id"))
        .values(
            updated_at=bindparam("v_updated_at"),
            **{c: bindparam(f"v_{c}") for c in columns},
        )
    )


UPDATES = {
    PoliceRiskGradeChanged.type_name: _update_of("police_risk_grade"),
    EpisodeReclassified.type_name: _update_of("episode_type"),
    ReportWithdrawn.type_name: _update_of("status", "withdrawal_reason"),
    ChildFound.type_name: _update_of("status"),
}
"""Built once: building an update per event cost more than running it."""


def _change(envelope: Envelope) -> dict[str, object]:
    data = envelope.data
    values: dict[str, object] = {"status": "found"}  # ChildFound
    if envelope.type == PoliceRiskGradeChanged.type_name:
        values = {"police_risk_grade": data["grade"]}
    elif envelope.type == EpisodeReclassified.type_name:
        values = {"episode_type": data["episode_type"]}
    elif envelope.type == ReportWithdrawn.type_name:
        values = {"status": "withdrawn", "withdrawal_reason": data["reason"]}
    return {
        "v_episode_id": UUID(str(data["episode_id"])),
        "v_updated_at": envelope.recorded_at,
        **{f"v_{k}": v for k, v in values.items()},
    }
