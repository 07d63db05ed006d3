"""Periods of care on a child's record (SSDA903 DECOM/DEC), checked as the DfE's
validator checks missing periods: none ends before it starts (rule 567's logic) and
none overlaps another (rule 574's; one may start the day the previous ended).

Pure, so the API and the CSV import name the same problems; and the CSV encoding of
periods lives here too: ``start/end`` ISO dates, ``;`` between periods, ``start/``
for one still open (the shape of an ISO 8601 interval)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from events.contracts.children import CarePeriod

Problem = tuple[str, str]


class Period(Protocol):
    """A period as the API's body or the event carries it."""

    @property
    def start_date(self) -> date: ...
    @property
    def end_date(self) -> date | None: ...


def care_period_problems(periods: Sequence[Period]) -> list[Problem]:
    """(field, reason) for each bad period, naming it by its place in the list."""
    problems: list[Problem] = [
        (f"care_periods[{i}].end_date", "is before start_date")
        for i, p in enumerate(periods)
        if p.end_date is not None and p.end_date < p.start_date
    ]
    order = sorted(range(len(periods)), key=lambda i: periods[i].start_date)
    reach: int | None = None  # the period reaching furthest so far
    for i in order:
        # DOMAIN.md §9 rule 8 (903 rule 574): a start equal to the previous end is
        # allowed; a start while an earlier period is open, or before it ended, not.
        if reach is not None and periods[i].start_date < _end(periods[reach]):
            problems.append(
                (f"care_periods[{i}].start_date", f"overlaps care_periods[{reach}]")
            )
        if reach is None or _end(periods[i]) > _end(periods[reach]):
            reach = i
    return problems


def _end(period: Period) -> date:
    return period.end_date or date.max


def parse_care_periods(text: str) -> list[CarePeriod]:
    """``2019-04-01/2020-03-31;2021-06-01/`` -> two periods, the second open.
    Raises ValueError naming the period at fault."""
    periods = []
    for i, part in enumerate(p.strip() for p in text.split(";") if p.strip()):
        start, slash, end = part.partition("/")
        try:
            if not slash:
                raise ValueError("is not start/end")
            periods.append(
                CarePeriod(
                    start_date=date.fromisoformat(start.strip()),
                    end_date=date.fromisoformat(end.strip()) if end.strip() else None,
                )
            )
        except ValueError as exc:
            raise ValueError(
                f"care_periods[{i}]: {part!r} is not YYYY-MM-DD/[YYYY-MM-DD]"
            ) from exc
    return periods


def format_care_periods(periods: Sequence[CarePeriod]) -> str:
    return ";".join(f"{p.start_date}/{p.end_date or ''}" for p in periods)
