"""Periods of London days, for the panel report: the period asked for, the equal one
before it, the window of days the report reads, and which periods may be asked for.
Pure."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

from events.calendar import LONDON

FGC_MONTHS = 3
"""A family group conference's episodes are counted three months either side."""
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
MAX_DAYS = 3660  # ten years: a period longer than that is a mistake, not a report


@dataclass(frozen=True)
class Period:
    """London days ``[start, end)``."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a period ends after it starts")

    @property
    def previous(self) -> Period:
        """The period of equal length just before."""
        return Period(self.start - (self.end - self.start), self.start)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end


def period_problems(start: date, end: date) -> list[tuple[str, str]]:
    """Why ``[start, end)`` cannot be reported on, naming ``from`` or ``to``."""
    for name, day in (("from", start), ("to", end)):
        if not EARLIEST <= day <= LATEST:
            return [(name, f"is outside {EARLIEST} to {LATEST}")]
    if end <= start:
        return [("to", "must be after from (to is exclusive)")]
    if (end - start).days > MAX_DAYS:
        return [("to", f"the period is longer than {MAX_DAYS} days")]
    return []


def london_day(at: datetime) -> date:
    return at.astimezone(LONDON).date()


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), the month's last day if shorter."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def window(period: Period) -> Period:
    """The days whose episodes and care the report needs: the previous period, the
    conferences' three months either side, re-missing after a return."""
    return Period(
        min(period.previous.start, add_months(period.start, -FGC_MONTHS)),
        add_months(period.end, FGC_MONTHS),
    )
