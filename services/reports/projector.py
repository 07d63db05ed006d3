"""Keeps the reports' read model from the events alone: the children's records, the
episodes (their type as last reclassified, start, return; one withdrawn as reported
in error is no episode, and is removed), each episode's return interview, and the
family group conferences."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, update
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
        """In order; a run of events of one kind is one executemany (a report and
        its withdrawal may share a group, a rebuild replays thousands alike)."""
        postgres = conn.dialect.name == "postgresql"
        known = [(e.type, e) for e in envelopes if e.type in _HANDLERS]
        for kind, run in itertools.groupby(known, key=lambda pair: pair[0]):
            _HANDLERS[kind](conn, [e.event for _, e in run], postgres)


Handler = Callable[[Connection, list[Any], bool], None]


def _children(conn: Connection, events: list[Any], postgres: bool) -> None:
    """The latest record of each child wins, periods of care and all."""
    records = {r.la_child_id: cast(ChildRecorded, r) for r in events}
    conn.execute(
        _upsert_child(postgres),
        [
            {
                "la_child_id": r.la_child_id,
                "date_of_birth": r.date_of_birth,
                "uasc": r.uasc,
                "placing_authority": r.placing_authority,
            }
            for r in records.values()
        ],
    )
    conn.execute(DELETE_PERIODS, [{"v_child": child} for child in records])
    periods = [
        {"la_child_id": r.la_child_id, "start_date": start, "end_date": end}
        for r in records.values()
        for start, end in {p.start_date: p.end_date for p in r.care_periods}.items()
    ]
    if periods:
        conn.execute(insert(report_care_periods), periods)


DELETE_PERIODS = delete(report_care_periods).where(
    report_care_periods.c.la_child_id == bindparam("v_child")
)
DELETE_EPISODE = delete(report_episodes).where(
    report_episodes.c.episode_id == bindparam("v_episode_id")
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


def _conferences(conn: Connection, events: list[Any], postgres: bool) -> None:
    conn.execute(
        _insert_conference(postgres),
        [
            {"la_child_id": held.la_child_id, "held_on": held.held_on}
            for held in cast(list[FamilyGroupConferenceRecorded], events)
        ],
    )


def _reported(conn: Connection, events: list[Any], postgres: bool) -> None:
    conn.execute(
        insert(report_episodes),
        [
            {
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
            for report in cast(list[MissingReported], events)
        ],
    )


def _withdrawn(conn: Connection, events: list[Any], postgres: bool) -> None:
    in_error = [
        {"v_episode_id": withdrawn.episode_id}
        for withdrawn in cast(list[ReportWithdrawn], events)
        if withdrawn.reason is WithdrawalReason.reported_in_error
    ]
    if in_error:
        conn.execute(DELETE_EPISODE, in_error)


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


def _setting(values: Callable[[Any], dict[str, Any]], *columns: str) -> Handler:
    """A handler that sets each event's episode row to ``values(event)``: the
    statement is built once (building one per event cost more than running it)."""
    statement = (
        update(report_episodes)
        .where(report_episodes.c.episode_id == bindparam("v_episode_id"))
        .values({c: bindparam(f"v_{c}") for c in columns})
    )

    def change(conn: Connection, events: list[Any], postgres: bool) -> None:
        conn.execute(
            statement,
            [
                {
                    "v_episode_id": event.episode_id,
                    **{f"v_{c}": v for c, v in values(event).items()},
                }
                for event in events
            ],
        )

    return change


_HANDLERS: dict[str, Handler] = {
    ChildRecorded.type_name: _children,
    FamilyGroupConferenceRecorded.type_name: _conferences,
    MissingReported.type_name: _reported,
    ReportWithdrawn.type_name: _withdrawn,
    EpisodeReclassified.type_name: _setting(
        lambda e: {"episode_type": CODE[e.episode_type]}, "episode_type"
    ),
    ChildFound.type_name: _setting(_found, "ended_at", "rhi_due_date"),
    ReturnInterviewOffered.type_name: _setting(
        lambda e: {"rhi_offered": True}, "rhi_offered"
    ),
    ReturnInterviewAccepted.type_name: _setting(
        lambda e: {"rhi_accepted": True}, "rhi_accepted"
    ),
    ReturnInterviewRefused.type_name: _setting(
        lambda e: {"rhi_accepted": False}, "rhi_accepted"
    ),
    ReturnInterviewCompleted.type_name: _setting(
        _completed, "rhi_completed_at", "rhi_completed_date"
    ),
    ReturnReasonsRecorded.type_name: _setting(
        lambda e: {"reasons": list(e.reasons)}, "reasons"
    ),
}
