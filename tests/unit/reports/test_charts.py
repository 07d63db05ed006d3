"""The charts: nothing drawn when there is nothing to draw, a title first, no script,
and axes a reader can count on."""

from __future__ import annotations

import pytest

from services.reports import charts
from tests.reports_world import PERIOD, World, edges, expected

BENCHMARKS = {"incidents_per_looked_after_child": {"England": 0.79}}
DRAWINGS = {
    "monthly": charts.monthly,
    "reasons": lambda r: charts.reasons(r, {}),
    "interviews": charts.interviews,
    "comparators": charts.comparators,
}


@pytest.mark.parametrize("name", list(DRAWINGS))
def test_nothing_to_draw_is_no_chart(name):
    assert DRAWINGS[name](expected(World(), *PERIOD, BENCHMARKS)) is None


@pytest.mark.parametrize("name", list(DRAWINGS))
def test_a_chart_opens_with_its_title_and_runs_nothing(name):
    svg = DRAWINGS[name](expected(edges(), *PERIOD, BENCHMARKS))
    assert svg is not None
    opening = svg[: svg.index(">") + 1]
    assert 'role="img"' in opening
    assert svg[len(opening) :].startswith("<title>")
    assert "<script" not in svg
    assert "<!--" not in svg


@pytest.mark.parametrize(
    ("top", "labels"),
    [
        (0, [0, 1]),
        (2, [0, 1, 2, 3]),
        (6, [0, 1, 2, 3, 4, 5, 6, 7]),
        (7, [0, 2, 4, 6, 8]),
        (512, [0, 100, 200, 300, 400, 500, 600]),
        (1236, [0, 500, 1000, 1500]),
    ],
)
def test_counts_are_labelled_in_whole_round_steps(top, labels):
    assert charts.whole_numbers(top) == labels


def test_a_month_is_labelled_as_a_reader_says_it():
    assert charts.month_label("2025-06") == "Jun 2025"
