"""Office hours in Europe/London, where weekends and England and Wales bank holidays
are out of hours (DOMAIN.md 6: `holidays`, subdivision ENG, equal to WLS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


@cache
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


@dataclass(frozen=True)
class OfficeHours:
    opens: time = time(9, 0)
    closes: time = time(17, 0)

    def covers(self, moment: datetime) -> bool:
        local = moment.astimezone(LONDON)
        return is_working_day(local.date()) and self.opens <= local.time() < self.closes
