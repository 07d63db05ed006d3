"""Keeps the reports' read model from the events alone: the children's records, the
episodes (their type as last reclassified, start, return; one withdrawn as reported
in error is no episode, and is removed), each episode's return interview, and the
family group conferences."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, delete, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable

from events.calendar import LONDON, working_day_after
from events.contracts.children import ChildRecorded, FamilyGroupConferenceRecorded
from events.contracts.missing import (
    ChildFound,
    EpisodeReclassified,
    EpisodeType,
    MissingReported,
    ReportWithdrawn,
    WithdrawalReason,
)
from events.contracts.returns import (
    ReturnInterviewAccepted,
    ReturnInterviewCompleted,
    ReturnInterviewOffered,
    ReturnInterviewRefused,
    ReturnReasonsRecorded,
)
from events.envelope import Envelope
from services.reports.tables import (
    report_care_periods,
    report_children,
    report_conferences,
    report_episodes,
)

RHI_WORKING_DAYS = 3  # the council's policy (source document §5.1; rule 13)
CODE = {EpisodeType.missing: "M", EpisodeType.away: "A"}


class ReportsProjector:
    tables: Sequence[Table] = (
        report_children,
        report_care_periods,
        report_episodes,
        report_conferences,
    )

    def apply(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        """In order; the group's new episodes in one statement, written before
        whatever follows them (a report and its withdrawal may share a group)."""
        postgres = conn.dialect.name == "postgresql"
        reported: list[dict[str, Any]] = []
        for envelope in envelopes:
            if envelope.type == MissingReported.type_name:
                reported.append(_reported(envelope.event))
                continue
            handle = _HANDLERS.get(envelope.type)
            if handle is None:
                continue
            if reported:
                conn.execute(insert(report_episodes), reported)
                reported = []
            handle(conn, envelope.event, postgres)
        if reported:
            conn.execute(insert(report_episodes), reported)


def _child(conn: Connection, event: Any, postgres: bool) -> None:
    record = cast(ChildRecorded, event)
    row = {
        "la_child_id": record.la_child_id,
        "date_of_birth": record.date_of_birth,
        "uasc": record.uasc,
        "placing_authority": record.placing_authority,
    }
    conn.execute(_upsert_child(postgres), row)
    conn.execute(
        delete(report_care_periods).where(
            report_care_periods.c.la_child_id == record.la_child_id
        )
    )
    periods = {p.start_date: p.end_date for p in record.care_periods}
    if periods:
        conn.execute(
            insert(report_care_periods),
            [
                {"la_child_id": record.la_child_id, "start_date": s, "end_date": e}
                for s, e in periods.items()
            ],
        )


@functools.cache
def _upsert_child(postgres: bool) -> Executable:
    upsert = (pg_insert if postgres else sqlite_insert)(report_children)
    return upsert.on_conflict_do_update(
        index_elements=["la_child_id"],
        set_={
            c: upsert.excluded[c]
            for c in ("date_of_birth", "uasc", "placing_authority")
        },
    )


@functools.cache
def _insert_conference(postgres: bool) -> Executable:
    upsert = (pg_insert if postgres else sqlite_insert)(report_conferences)
    return upsert.on_conflict_do_nothing(index_elements=["la_child_id", "held_on"])


def _conference(conn: Connection, event: Any, postgres: bool) -> None:
    held = cast(FamilyGroupConferenceRecorded, event)
    conn.execute(
        _insert_conference(postgres),
        {"la_child_id": held.la_child_id, "held_on": held.held_on},
    )


def _reported(event: Any) -> dict[str, Any]:
    report = cast(MissingReported, event)
    return {
        "episode_id": report.episode_id,
        "la_child_id": report.match.la_child_id,
        "episode_type": CODE[report.episode_type],
        "started_at": report.missing_since,
        "start_date": report.missing_since.astimezone(LONDON).date(),
        "ended_at": None,
        "rhi_due_date": None,
        "rhi_offered": False,
        "rhi_accepted": None,
        "rhi_completed_at": None,
        "rhi_completed_date": None,
        "reasons": [],
    }


def _found(event: Any) -> dict[str, Any]:
    found = cast(ChildFound, event)
    day = found.found_at.astimezone(LONDON).date()
    return {
        "ended_at": found.found_at,
        "rhi_due_date": working_day_after(day, RHI_WORKING_DAYS),
    }


def _completed(event: Any) -> dict[str, Any]:
    completed = cast(ReturnInterviewCompleted, event)
    return {
        "rhi_completed_at": completed.completed_at,
        "rhi_completed_date": completed.completed_at.astimezone(LONDON).date(),
    }


def _withdrawn(conn: Connection, event: Any, postgres: bool) -> None:
    withdrawn = cast(ReportWithdrawn, event)
    if withdrawn.reason is WithdrawalReason.reported_in_error:
        conn.execute(
            delete(report_episodes).where(
                report_episodes.c.episode_id == withdrawn.episode_id
            )
        )


def _changing(values: Any) -> Any:
    """A handler that sets the episode's row to ``values(event)``."""

    def change(conn: Connection, event: Any, postgres: bool) -> None:
        episode_id: UUID = event.episode_id
        conn.execute(
            update(report_episodes)
            .where(report_episodes.c.episode_id == episode_id)
            .values(**values(event))
        )

    return change


_HANDLERS = {
    ChildRecorded.type_name: _child,
    FamilyGroupConferenceRecorded.type_name: _conference,
    ReportWithdrawn.type_name: _withdrawn,
    EpisodeReclassified.type_name: _changing(
        lambda e: {"episode_type": CODE[e.episode_type]}
    ),
    ChildFound.type_name: _changing(_found),
    ReturnInterviewOffered.type_name: _changing(lambda e: {"rhi_offered": True}),
    ReturnInterviewAccepted.type_name: _changing(lambda e: {"rhi_accepted": True}),
    ReturnInterviewRefused.type_name: _changing(lambda e: {"rhi_accepted": False}),
    ReturnInterviewCompleted.type_name: _changing(_completed),
    ReturnReasonsRecorded.type_name: _changing(lambda e: {"reasons": list(e.reasons)}),
}
