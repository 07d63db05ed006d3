"""The panel report's arithmetic (services/reports/figures.py) with no data at all,
and the periods it may be asked for. The figures against the plain computation in
tests/reports_world.py go through the read model's queries on a real database:
tests/integration/test_report_figures.py."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.reports.figures import panel
from services.reports.model import Comparator, PanelData
from services.reports.periods import Period, add_months, period_problems
from tests.reports_world import FIGURE_NAMES, PERIOD, World, expected, shift_months

BENCHMARKS = {"incidents_per_looked_after_child": {"England": 0.79, "South East": 0.75}}


def report(world: World, start: date, end: date) -> dict[str, Any]:
    """With no data at all: what the read model counts of an empty world."""
    assert world == World()
    comparators = [Comparator(f, b) for f, b in BENCHMARKS.items()]
    return panel(PanelData(), Period(start, end), comparators)


def test_no_data_at_all_is_nulls_not_an_error():
    got = report(World(), *PERIOD)
    for name in FIGURE_NAMES:
        counts = not name.endswith("_pct") and not name.startswith("incidents_per")
        assert got[name] == (0 if counts else None), name
        assert got["change"][name] == (0 if counts else None), name
    assert got["reasons"] == []
    assert set(got["monthly"]) == {f"2025-{m:02d}" for m in range(6, 13)} | {
        f"2026-{m:02d}" for m in range(1, 6)
    }
    assert got["family_group_conferences"] == {
        "children": 0, "average_episodes_before": None, "average_episodes_after": None
    }  # fmt: skip
    assert got["comparators"] == {
        "incidents_per_looked_after_child": {
            "value": None, "benchmarks": {"England": 0.79, "South East": 0.75}
        }
    }  # fmt: skip


def test_a_period_ends_after_it_starts():
    with pytest.raises(ValueError, match="ends after it starts"):
        Period(date(2026, 1, 2), date(2026, 1, 2))


@pytest.mark.parametrize(
    "day", [date(2025, 1, 31), date(2024, 11, 30), date(2026, 5, 31)]
)
@pytest.mark.parametrize("months", [-3, -1, 1, 3, 13])
def test_months_are_calendar_months(day: date, months: int):
    assert add_months(day, months) == shift_months(day, months)


@pytest.mark.parametrize(
    ("day", "months", "then"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 11, 30), -3, date(2024, 8, 30)),
        (date(2026, 5, 31), -3, date(2026, 2, 28)),
        (date(2025, 12, 15), 3, date(2026, 3, 15)),
    ],
)
def test_months_by_hand(day: date, months: int, then: date):
    assert add_months(day, months) == then


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(1900, 1, 1), date(1910, 1, 1)), (date(2990, 1, 1), date(2999, 12, 31))],
)
def test_the_furthest_periods_allowed_are_reported(start: date, end: date):
    assert not period_problems(start, end)
    assert report(World(), start, end) == expected(World(), start, end, BENCHMARKS)


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (date(1899, 12, 31), date(1900, 2, 1), "from"),
        (date(2999, 1, 1), date(3000, 1, 1), "to"),
        (date(2026, 1, 2), date(2026, 1, 1), "to"),
        (date(2000, 1, 1), date(2010, 1, 9), "to"),
    ],
)
def test_periods_that_cannot_be_reported_name_the_field(
    start: date, end: date, field: str
):
    assert [f for f, _ in period_problems(start, end)] == [field]
