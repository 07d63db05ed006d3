"""The three calendar months either side of a Missing Family Group Conference,
against dates written out by hand."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from services.returns.conferences import around, months_from


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        pytest.param(date(2026, 5, 15), -3, date(2026, 2, 15), id="plain"),
        pytest.param(date(2026, 5, 31), -3, date(2026, 2, 28), id="to February"),
        pytest.param(date(2024, 5, 31), -3, date(2024, 2, 29), id="leap year"),
        pytest.param(date(2026, 1, 10), -3, date(2025, 10, 10), id="year before"),
        pytest.param(date(2026, 11, 30), 3, date(2027, 2, 28), id="year after"),
        pytest.param(date(2026, 8, 31), 3, date(2026, 11, 30), id="to 30 days"),
    ],
)
def test_calendar_months(day: date, months: int, expected: date):
    assert months_from(day, months) == expected


def test_each_episode_counts_once_either_side_of_the_day():
    held_on = date(2026, 5, 31)
    ids = {name: uuid4() for name in "abcdefg"}
    starts = {
        "a": date(2026, 2, 27),  # a day before the window before
        "b": date(2026, 2, 28),  # its first day (31 May - 3 months)
        "c": date(2026, 5, 30),
        "d": date(2026, 5, 31),  # the day itself: after
        "e": date(2026, 8, 30),
        "f": date(2026, 8, 31),  # 31 May + 3 months: the first day past it
        "g": date(2026, 9, 1),
    }
    got = around(held_on, [(ids[n], day) for n, day in starts.items()])
    assert got.before == (ids["b"], ids["c"])
    assert got.after == (ids["d"], ids["e"])
    assert (got.before_from, got.after_until) == (date(2026, 2, 28), date(2026, 8, 31))
