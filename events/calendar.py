"""The calendar every service shares: times shown in Europe/London, and working days
that skip weekends and England and Wales bank holidays (DOMAIN.md §6: `holidays`,
subdivision ENG, equal to WLS)."""

from __future__ import annotations

from datetime import date
from functools import cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


@cache
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)
