"""The calendar every service shares: times shown in Europe/London, and working days
that skip weekends and England and Wales bank holidays (DOMAIN.md §6: `holidays`,
subdivision ENG, equal to WLS)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


@cache
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def working_day_after(day: date, n: int) -> date:
    """The ``n``th working day after ``day``, ``day`` itself not counted: the return
    interview's "within 3 working days" (DOMAIN.md §9 rule 13)."""
    if n < 1:
        raise ValueError("n counts working days after the day: 1 or more")
    while n:
        day += timedelta(days=1)
        n -= is_working_day(day)
    return day


def end_of_day(day: date) -> datetime:
    """The instant a London calendar day ends (the next day's midnight, which always
    exists: the clocks change at 01:00 and 02:00), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), LONDON).astimezone(UTC)
