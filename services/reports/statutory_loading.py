"""Loads what a statutory return needs from the reports' read model: the council's
own children with care in the return's days (with all their periods of care and
their dates of birth), and their episodes that may fall in those days."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select

from events.store import Reads
from services.reports.model import CarePeriod
from services.reports.statutory import ReturnChild, ReturnEpisode
from services.reports.tables import (
    report_care_periods,
    report_children,
    report_episodes,
)

children = report_children.c
periods = report_care_periods.c
episodes = report_episodes.c


async def load_children(
    reads: Reads, *, council: str, first: date, last: date
) -> list[ReturnChild]:
    """The council's children with a period of care overlapping ``[first, last]``."""
    rows = await reads.select(
        select(
            children.la_child_id,
            children.date_of_birth,
            periods.start_date,
            periods.end_date,
        )
        .join_from(
            report_children,
            report_care_periods,
            children.la_child_id == periods.la_child_id,
        )
        .where(children.placing_authority == council)
    )
    care: dict[str, list[CarePeriod]] = defaultdict(list)
    born: dict[str, date] = {}
    for row in rows:
        care[row.la_child_id].append(CarePeriod(row.start_date, row.end_date))
        born[row.la_child_id] = row.date_of_birth
    return [
        ReturnChild(i, born[i], tuple(sorted(p, key=lambda c: c.start)))
        for i, p in care.items()
        if any(c.overlaps(first, last + timedelta(days=1)) for c in p)
    ]


async def load_episodes(
    reads: Reads, *, council: str, first: date, last: date
) -> list[ReturnEpisode]:
    """The council's children's episodes starting by ``last`` (London) and not
    ended before ``first`` (a day's margin: London days are not UTC days)."""
    ended_by = datetime.combine(first - timedelta(days=1), time(), tzinfo=UTC)
    rows = await reads.select(
        select(
            episodes.la_child_id,
            episodes.episode_type,
            episodes.started_at,
            episodes.ended_at,
            episodes.rhi_offered,
            episodes.rhi_accepted,
        )
        .join_from(
            report_episodes,
            report_children,
            children.la_child_id == episodes.la_child_id,
        )
        .where(
            children.placing_authority == council,
            episodes.start_date <= last,
            or_(episodes.ended_at.is_(None), episodes.ended_at >= ended_by),
        )
    )
    return [
        ReturnEpisode(
            child_id=row.la_child_id,
            missing=row.episode_type == "M",
            started_at=row.started_at,
            ended_at=row.ended_at,
            rhi_offered=row.rhi_offered,
            rhi_accepted=row.rhi_accepted,
        )
        for row in rows
    ]
