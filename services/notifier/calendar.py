"""Office hours in Europe/London: weekends and England and Wales bank holidays are
out of hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from events.calendar import LONDON, is_working_day


@dataclass(frozen=True)
class OfficeHours:
    opens: time = time(9, 0)
    closes: time = time(17, 0)

    def covers(self, moment: datetime) -> bool:
        local = moment.astimezone(LONDON)
        return is_working_day(local.date()) and self.opens <= local.time() < self.closes
