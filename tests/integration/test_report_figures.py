"""The panel report's figures as the read model counts them (loading.py's queries,
then figures.py's arithmetic), on SQLite and PostgreSQL, against the plain
computation in tests/reports_world.py: worlds committed as events (so projected as
the services project them), on the planted edges and on generated worlds, for
several periods."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from events.envelope import NewEvent
from events.store import Append, Commit
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from services.processes import projectors
from services.reports.model import Comparator
from services.reports.periods import Period
from services.reports.service import panel_report
from services.reports.settings import ReportsSettings
from tests.integration.test_report_command import events_of
from tests.reports_world import PERIOD, World, edges, expected, generate, merged

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
BENCHMARKS = {"incidents_per_looked_after_child": {"England": 0.79, "South East": 0.75}}
PERIODS = [
    PERIOD,  # the edges' year, BST at both ends
    (date(2025, 10, 26), date(2026, 3, 29)),  # clock change to change
    (date(2026, 1, 15), date(2026, 1, 16)),  # one day: a due date
    (date(2025, 11, 1), date(2026, 2, 1)),  # a quarter
]
FURTHEST = [
    (date(1900, 1, 1), date(1910, 1, 1)),
    (date(2990, 1, 1), date(2999, 12, 31)),
]


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlEventStore]:
    store = SqlEventStore(create_engine(database_url), projectors=projectors())
    yield store
    await store.close()


async def record(store: SqlEventStore, world: World) -> None:
    appends = [
        Append(stream, [NewEvent(event=e) for e in events])
        for stream, events in events_of(world)
    ]
    await store.commit(Commit(appends))


async def report(store: SqlEventStore, start: date, end: date) -> dict[str, Any]:
    settings = ReportsSettings.model_construct()
    settings.reports_comparators = BENCHMARKS
    assert settings.comparators == tuple(
        Comparator(f, b) for f, b in BENCHMARKS.items()
    )
    return await panel_report(store, settings, Period(start, end))


async def test_the_edges(store: SqlEventStore):
    world = edges()
    await record(store, world)
    for start, end in PERIODS + FURTHEST:
        want = expected(world, start, end, BENCHMARKS)
        assert await report(store, start, end) == want, (start, end)


@pytest.mark.parametrize("seed", range(12))
async def test_generated_worlds(store: SqlEventStore, seed: int):
    world = merged(
        edges(),
        generate(seed, kids=60, first=date(2024, 3, 1), last=date(2026, 9, 1), now=NOW),
    )
    await record(store, world)
    for start, end in PERIODS[:2] + PERIODS[3:]:
        want = expected(world, start, end, BENCHMARKS)
        assert await report(store, start, end) == want, (start, end)


async def test_the_planted_edges_land_as_defined(store: SqlEventStore):
    """A few of the definitions read off the edges by hand, so a mistake shared by
    the product and the plain computation still shows."""
    await record(store, edges())
    got = await report(store, *PERIOD)
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
