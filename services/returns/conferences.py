"""Missing Family Group Conferences, pure: the episodes in the three calendar months
before a conference and in the three after (the source document's panel figure:
"6.1 -> 1.8 on average", DOMAIN.md A).

The windows are half-open and meet at the conference day, so every episode counts
in one of them at most: before is ``[held_on - 3 months, held_on)``, after is
``[held_on, held_on + 3 months)``; an episode that started on the day of the
conference counts after it. An episode's day is the London date it started.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

MONTHS = 3


def months_from(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (or earlier, if negative);
    the month's last day where it has no such day (31 May - 3 months: 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class Around:
    held_on: date
    before_from: date
    after_until: date
    """The first day after the window after (the window ends before it)."""
    before: tuple[UUID, ...]
    after: tuple[UUID, ...]


def around(held_on: date, episodes: Iterable[tuple[UUID, date]]) -> Around:
    """``episodes``: each episode's id and start day, in the order to list them."""
    start, end = months_from(held_on, -MONTHS), months_from(held_on, MONTHS)
    listed = list(episodes)
    return Around(
        held_on=held_on,
        before_from=start,
        after_until=end,
        before=tuple(e for e, day in listed if start <= day < held_on),
        after=tuple(e for e, day in listed if held_on <= day < end),
    )
