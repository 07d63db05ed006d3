"""Counts what one period's report needs, in the database: the read model holds some
100,000 episodes a year at a national scale, and the report needs a few hundred
numbers of them. For each period (the one asked for and the one before): the
looked-after children per group; their incidents per group, counted per child first
(for the children with one or two) and with their return interviews; the children
missing per month; the citizen children's reasons. Then the conferences of the
period, with their children's incidents. The arithmetic is figures.py's.

An incident is an episode of the council's child that starts in the period, on a day
a period of care holds (SSDA903 rules 578 and 581). Its return interview is eligible
when it ended and the same child has no other episode starting from its end to its
due date, that day included (DOMAIN.md §9 rules 13-14).
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    exists,
    extract,
    func,
    or_,
    select,
)

from events.store import Reads
from services.reports.model import Conference, GroupCounts, PanelData, PeriodCounts
from services.reports.periods import FGC_MONTHS, Period, add_months
from services.reports.tables import (
    report_care_periods,
    report_children,
    report_conferences,
    report_episodes,
)

children = report_children.c
periods = report_care_periods.c
episodes = report_episodes.c
later = report_episodes.alias("later").c


async def load_panel_data(reads: Reads, *, council: str, period: Period) -> PanelData:
    """The queries run side by side: on PostgreSQL each on a connection of its own
    (on SQLite they run one after another on the loop's thread, as all reads do)."""
    current, previous, conferences = await asyncio.gather(
        _period_counts(reads, council, period),
        _period_counts(reads, council, period.previous),
        _conferences(reads, council, period),
    )
    return PanelData(
        current=current,
        previous=previous,
        conferences=conferences,
        conference_incidents=await _conference_incidents(
            reads, council, period, {c.child_id for c in conferences}
        ),
    )


async def _period_counts(reads: Reads, council: str, period: Period) -> PeriodCounts:
    incidents = _incidents(council, period)
    looked_after, per_group, per_month, reasons = await asyncio.gather(
        reads.select(_looked_after(council, period)),
        reads.select(_per_group(incidents)),
        reads.select(_per_month(incidents)),
        reads.select(_reasons_given(incidents)),
    )
    groups: dict[bool, dict[str, int]] = {False: {}, True: {}}
    for uasc, count in looked_after:
        groups[bool(uasc)]["looked_after_children"] = count
    for row in per_group:
        counts = row._asdict()
        uasc = bool(counts.pop("uasc"))
        # int(): PostgreSQL's sums are numeric
        groups[uasc].update((name, int(n)) for name, n in counts.items())
    return PeriodCounts(
        citizen=GroupCounts(**groups[False]),
        uasc=GroupCounts(**groups[True]),
        monthly={
            (f"{int(year):04d}-{int(month):02d}", bool(uasc)): count
            for year, month, uasc, count in per_month
        },
        reasons=[(tuple(json.loads(given)), count) for given, count in reasons],
    )


def _council(council: str) -> ColumnElement[bool]:
    in_council: ColumnElement[bool] = children.placing_authority == council
    return in_council


def _care_overlapping(start: date, end: date) -> ColumnElement[bool]:
    """The child has a period of care overlapping ``[start, end)``."""
    return exists().where(
        periods.la_child_id == children.la_child_id,
        periods.start_date < end,
        or_(periods.end_date.is_(None), periods.end_date >= start),
    )


def _looked_after(council: str, period: Period) -> Select[Any]:
    return (
        select(children.uasc, func.count())
        .where(_council(council), _care_overlapping(period.start, period.end))
        .group_by(children.uasc)
    )


def _in_care_on_start() -> ColumnElement[bool]:
    return exists().where(
        periods.la_child_id == episodes.la_child_id,
        periods.start_date <= episodes.start_date,
        or_(periods.end_date.is_(None), periods.end_date >= episodes.start_date),
    )


def _incidents(council: str, period: Period) -> Select[Any]:
    """The period's incidents, one row each, with what is counted of them."""
    eligible = and_(
        episodes.ended_at.is_not(None),
        episodes.rhi_due_date.is_not(None),
        ~exists().where(
            later.la_child_id == episodes.la_child_id,
            later.episode_id != episodes.episode_id,
            later.started_at >= episodes.ended_at,
            later.start_date <= episodes.rhi_due_date,
        ),
    )
    return (
        select(
            episodes.la_child_id,
            children.uasc,
            episodes.start_date,
            episodes.reasons,
            (episodes.episode_type == "M").label("missing"),
            eligible.label("eligible"),
            episodes.rhi_offered.label("offered"),
            func.coalesce(episodes.rhi_accepted, False).label("accepted"),
            episodes.rhi_completed_date.is_not(None).label("completed"),
            (episodes.rhi_completed_date <= episodes.rhi_due_date).label("in_time"),
        )
        .join_from(
            report_episodes,
            report_children,
            children.la_child_id == episodes.la_child_id,
        )
        .where(
            _council(council),
            episodes.start_date >= period.start,
            episodes.start_date < period.end,
            _in_care_on_start(),
        )
    )


def _counted(condition: Any) -> Any:
    return func.count().filter(condition)


def _per_group(incidents: Select[Any]) -> Select[Any]:
    """Per child first (its incidents, and of them those counted), then per group.
    The incidents are materialized: the re-missing test is then run once per
    incident, not once for each count that reads it."""
    i = incidents.cte("incidents").prefix_with("MATERIALIZED").c
    eligible = i.eligible
    per_child = (
        select(
            i.la_child_id,
            i.uasc,
            func.count().label("incidents"),
            _counted(i.missing).label("incidents_missing"),
            _counted(eligible).label("rhi_eligible"),
            _counted(and_(eligible, i.offered)).label("rhi_offered"),
            _counted(and_(eligible, i.offered, i.accepted)).label("rhi_accepted"),
            _counted(and_(eligible, i.completed)).label("rhi_completed"),
            _counted(and_(eligible, i.completed, i.in_time)).label(
                "rhi_completed_in_time"
            ),
        )
        .group_by(i.la_child_id, i.uasc)
        .subquery("per_child")
    )
    c = per_child.c
    sums = (
        "incidents",
        "incidents_missing",
        "rhi_eligible",
        "rhi_offered",
        "rhi_accepted",
        "rhi_completed",
        "rhi_completed_in_time",
    )
    return select(
        c.uasc,
        func.count().label("children_missing"),
        _counted(c.incidents <= 2).label("children_one_or_two"),
        *(func.sum(c[name]).label(name) for name in sums),
    ).group_by(c.uasc)


def _per_month(incidents: Select[Any]) -> Select[Any]:
    i = incidents.subquery("incidents").c
    year, month = extract("year", i.start_date), extract("month", i.start_date)
    children_missing = func.count(i.la_child_id.distinct())
    return select(year, month, i.uasc, children_missing).group_by(year, month, i.uasc)


def _reasons_given(incidents: Select[Any]) -> Select[Any]:
    i = incidents.subquery("incidents").c
    given: Any = cast(i.reasons, String)
    return select(given, func.count()).where(i.uasc.is_(False)).group_by(given)


async def _conferences(reads: Reads, council: str, period: Period) -> list[Conference]:
    """Those held in the period by children looked after in it."""
    held = report_conferences.c
    rows = await reads.select(
        select(held.la_child_id, held.held_on)
        .join_from(
            report_conferences,
            report_children,
            children.la_child_id == held.la_child_id,
        )
        .where(
            _council(council),
            held.held_on >= period.start,
            held.held_on < period.end,
            _care_overlapping(period.start, period.end),
        )
    )
    return [Conference(row.la_child_id, row.held_on) for row in rows]


async def _conference_incidents(
    reads: Reads, council: str, period: Period, child_ids: set[str]
) -> dict[str, list[date]]:
    """The start days of those children's incidents that a conference of the period
    may count: from three months before the period to three months after it."""
    if not child_ids:
        return {}
    rows = await reads.select(
        select(episodes.la_child_id, episodes.start_date).where(
            episodes.la_child_id.in_(sorted(child_ids)),
            episodes.start_date >= add_months(period.start, -FGC_MONTHS),
            episodes.start_date < add_months(period.end, FGC_MONTHS),
            _in_care_on_start(),
        )
    )
    days: dict[str, list[date]] = {}
    for child_id, day in rows:
        days.setdefault(child_id, []).append(day)
    return days
