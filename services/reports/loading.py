"""Loads what one period's report needs, and nothing more: the council's own
children with care in the report's window, their episodes starting in it (and up to
the latest interview due date of the period's returns, for re-missing), and the
conferences held in the period. Four indexed queries."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from events.store import Reads
from services.reports.model import CarePeriod, Child, Conference, Episode, PanelData
from services.reports.periods import Period, window
from services.reports.tables import (
    report_care_periods,
    report_children,
    report_conferences,
    report_episodes,
)

children = report_children.c
periods = report_care_periods.c
episodes = report_episodes.c


async def load_panel_data(reads: Reads, *, council: str, period: Period) -> PanelData:
    span = window(period)
    end = max(span.end, await _latest_due(reads, council, span) + timedelta(days=1))
    return PanelData(
        children=await _children(reads, council, span.start, end),
        episodes=await _episodes(reads, council, span.start, end),
        conferences=await _conferences(reads, council, period),
    )


async def _children(reads: Reads, council: str, start: date, end: date) -> list[Child]:
    """The council's children with a period of care overlapping ``[start, end)``,
    with those periods."""
    rows = await reads.select(
        select(
            children.la_child_id, children.uasc, periods.start_date, periods.end_date
        )
        .join_from(report_children, report_care_periods, _same_child(periods))
        .where(
            children.placing_authority == council,
            periods.start_date < end,
            or_(periods.end_date.is_(None), periods.end_date >= start),
        )
    )
    care: dict[str, list[CarePeriod]] = defaultdict(list)
    uasc: dict[str, bool] = {}
    for row in rows:
        care[row.la_child_id].append(CarePeriod(row.start_date, row.end_date))
        uasc[row.la_child_id] = row.uasc
    return [Child(i, uasc[i], tuple(p)) for i, p in care.items()]


async def _conferences(reads: Reads, council: str, period: Period) -> list[Conference]:
    held = report_conferences.c
    rows = await reads.select(
        select(held.la_child_id, held.held_on)
        .join_from(report_conferences, report_children, _same_child(held))
        .where(
            children.placing_authority == council,
            held.held_on >= period.start,
            held.held_on < period.end,
        )
    )
    return [Conference(row.la_child_id, row.held_on) for row in rows]


def _same_child(columns: Any) -> ColumnElement[bool]:
    same: ColumnElement[bool] = children.la_child_id == columns.la_child_id
    return same


async def _latest_due(reads: Reads, council: str, span: Period) -> date:
    rows = await reads.select(
        select(func.max(episodes.rhi_due_date))
        .join_from(report_episodes, report_children, _same_child(episodes))
        .where(
            children.placing_authority == council,
            episodes.start_date >= span.start,
            episodes.start_date < span.end,
        )
    )
    latest = rows[0][0] if rows else None
    return latest if isinstance(latest, date) else span.start


async def _episodes(
    reads: Reads, council: str, start: date, end: date
) -> list[Episode]:
    rows = await reads.select(
        select(
            episodes.episode_id,
            episodes.la_child_id,
            episodes.episode_type,
            episodes.started_at,
            episodes.ended_at,
            episodes.rhi_due_date,
            episodes.rhi_offered,
            episodes.rhi_accepted,
            episodes.rhi_completed_at,
            episodes.reasons,
        )
        .join_from(report_episodes, report_children, _same_child(episodes))
        .where(
            and_(
                children.placing_authority == council,
                episodes.start_date >= start,
                episodes.start_date < end,
            )
        )
    )
    return [
        Episode(
            episode_id=str(row.episode_id),
            child_id=row.la_child_id,
            missing=row.episode_type == "M",
            started_at=row.started_at,
            ended_at=row.ended_at,
            rhi_due_date=row.rhi_due_date,
            rhi_offered=row.rhi_offered,
            rhi_accepted=bool(row.rhi_accepted),
            rhi_completed_at=row.rhi_completed_at,
            reasons=tuple(row.reasons),
        )
        for row in rows
    ]
