"""The panel report's figures (services/reports/figures.py) against the plain
computation in tests/reports_world.py, on the planted edges and on generated
worlds, for several periods; and with no data at all."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.reports.figures import panel
from services.reports.model import (
    CarePeriod,
    Child,
    Comparator,
    Conference,
    Episode,
    PanelData,
)
from services.reports.periods import Period, add_months, period_problems
from tests.reports_world import (
    COUNCIL,
    FIGURE_NAMES,
    PERIOD,
    World,
    due_date,
    edges,
    expected,
    generate,
    merged,
    shift_months,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
BENCHMARKS = {"incidents_per_looked_after_child": {"England": 0.79, "South East": 0.75}}


def data_of(world: World) -> PanelData:
    """As the loader hands it over: the council's own children, the episodes that
    are ones, each return's due date."""
    return PanelData(
        children=[
            Child(k.id, k.uasc, tuple(CarePeriod(s, e) for s, e in k.periods))
            for k in world.kids
            if k.placing == COUNCIL
        ],
        episodes=[
            Episode(
                episode_id=e.id,
                child_id=e.child,
                missing=e.kind == "M",
                started_at=e.start,
                ended_at=e.end,
                rhi_due_date=due_date(e.end) if e.end else None,
                rhi_offered=e.offered,
                rhi_accepted=bool(e.accepted),
                rhi_completed_at=e.completed,
                reasons=tuple(e.reasons),
            )
            for e in world.eps
            if not e.in_error
        ],
        conferences=[Conference(c, held) for c, held in world.conferences],
    )


def report(world: World, start: date, end: date) -> dict[str, Any]:
    comparators = [Comparator(f, b) for f, b in BENCHMARKS.items()]
    return panel(data_of(world), Period(start, end), comparators)


PERIODS = [
    pytest.param(*PERIOD, id="the edges' year, BST at both ends"),
    pytest.param(date(2025, 10, 26), date(2026, 3, 29), id="clock change to change"),
    pytest.param(date(2026, 1, 15), date(2026, 1, 16), id="one day: a due date"),
    pytest.param(date(2025, 11, 1), date(2026, 2, 1), id="a quarter"),
]


@pytest.mark.parametrize(("start", "end"), PERIODS)
def test_the_edges(start: date, end: date):
    world = edges()
    assert report(world, start, end) == expected(world, start, end, BENCHMARKS)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize(("start", "end"), PERIODS[:2] + PERIODS[3:])
def test_generated_worlds(seed: int, start: date, end: date):
    world = merged(
        edges(),
        generate(seed, kids=60, first=date(2024, 3, 1), last=date(2026, 9, 1), now=NOW),
    )
    assert report(world, start, end) == expected(world, start, end, BENCHMARKS)


def test_the_planted_edges_land_as_defined():
    """A few of the definitions read off the edges by hand, so a mistake shared by
    the product and the plain computation still shows."""
    got = report(edges(), *PERIOD)
    # E1..E9, E11..E13 (E10 is another council's); E1b and E2b too (in care)
    assert got["looked_after_children"] == 15
    assert got["by_status"]["uasc"]["looked_after_children"] == 3  # E3, E9, E11
    # E1's first minute counts, E1b's (31 May London) and E2b's (1 June) do not;
    # E4's third (care ended), E1's second (in error) neither
    assert got["children_missing"] == 11
    assert got["monthly"]["2025-10"] == {"citizen": 0, "uasc": 2}  # E3 at 00:30 BST
    assert got["family_group_conferences"] == {
        "children": 1, "average_episodes_before": 6.0, "average_episodes_after": 2.0
    }  # fmt: skip
    # E3b's first completed at 00:30 London the day after its due date: late
    assert got["rhi_completed"] == 4
    assert got["rhi_completed_in_time"] == 3


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
    world = edges()
    assert report(world, start, end) == expected(world, start, end, BENCHMARKS)


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
