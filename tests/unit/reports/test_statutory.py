"""The statutory returns' rows (services/reports/statutory.py): the SSDA903 Missing
table and Annex A List 8, against the plain computation in tests/statutory_world.py
on planted edges (stated by hand too) and on generated worlds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.reports.model import CarePeriod
from services.reports.statutory import (
    ReturnChild,
    ReturnEpisode,
    list8,
    missing_table,
)
from tests.reports_world import COUNCIL, World, edges, generate, merged
from tests.statutory_world import (
    LIST8_DAY,
    list8_rows,
    missing_rows,
    statutory_edges,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def data_of(world: World) -> tuple[list[ReturnChild], list[ReturnEpisode]]:
    """As the loader hands it over: the council's own children, the episodes that
    are ones (not withdrawn as reported in error)."""
    kids = [
        ReturnChild(k.id, k.dob, tuple(CarePeriod(s, e) for s, e in k.periods))
        for k in world.kids
        if k.placing == COUNCIL
    ]
    eps = [
        ReturnEpisode(e.child, e.kind == "M", e.start, e.end, e.offered, e.accepted)
        for e in world.eps
        if not e.in_error
    ]
    return kids, eps


def world_of(seed: int) -> World:
    """Episodes from early 2024 and from late 2025 on (a world's episodes start in
    its first two months)."""
    return merged(*(
        generate(seed * 10 + n, kids=60, first=first, last=date(2026, 9, 1), now=NOW)
        for n, first in enumerate([date(2024, 2, 1), date(2025, 9, 1)])
    ))  # fmt: skip


class TestMissingTable:
    def test_the_edges_as_stated(self):
        kids, eps = data_of(statutory_edges())
        rows = [r for r in missing_table(kids, eps, year=2026) if r[0][0] == "R"]
        dob = "01/01/2010"
        assert rows == [
            ("R1", dob, "M", "30/03/2025", "02/04/2025"),  # across 1 April
            ("R2", dob, "A", "01/12/2025", ""),  # open
            ("R3", dob, "M", "31/03/2025", "01/04/2025"),  # London, not UTC, days
            ("R4", dob, "M", "30/03/2026", ""),  # ends after the year: open in it
            ("R6", dob, "M", "30/06/2025", "01/07/2025"),  # started in care
        ]

    def test_an_episode_across_the_year_end_is_open_in_that_year(self):
        kids, eps = data_of(statutory_edges())
        rows = [r for r in missing_table(kids, eps, year=2025) if r[0] == "R1"]
        assert rows == [("R1", "01/01/2010", "M", "30/03/2025", "")]

    @pytest.mark.parametrize("year", [2025, 2026, 2027])
    def test_the_edges_as_the_plain_computation(self, year: int):
        world = merged(statutory_edges(), edges())
        kids, eps = data_of(world)
        assert missing_table(kids, eps, year=year) == missing_rows(world, year)

    @pytest.mark.parametrize("seed", [1, 2, 3])
    @pytest.mark.parametrize("year", [2025, 2026])
    def test_generated_worlds(self, seed: int, year: int):
        world = world_of(seed)
        kids, eps = data_of(world)
        rows = missing_table(kids, eps, year=year)
        assert rows == missing_rows(world, year)
        assert rows  # the worlds are not empty

    def test_no_data_at_all(self):
        assert missing_table([], [], year=2026) == []


class TestList8:
    def test_the_edges_as_stated(self):
        kids, eps = data_of(statutory_edges())
        rows = [r for r in list8(kids, eps, at=LIST8_DAY) if r[0][0] == "L"]
        yes, no, unknown = "a) Yes", "b) No", "c) Unknown"
        assert rows == [
            ("L1", "2", "1", yes, no),  # from 30 March 2025; the latest M refused
            ("L2", "2", "0", unknown, unknown),  # the latest M still open
            ("L3", "1", "0", no, unknown),
            ("L4", "0", "0", unknown, unknown),
            ("L6", "1", "1", yes, unknown),
            ("L7", "1", "0", unknown, unknown),
        ]

    @pytest.mark.parametrize(
        "at", [LIST8_DAY, date(2025, 10, 26), date(2026, 3, 31), date(2024, 2, 29)]
    )
    def test_the_edges_as_the_plain_computation(self, at: date):
        world = merged(statutory_edges(), edges())
        kids, eps = data_of(world)
        assert list8(kids, eps, at=at) == list8_rows(world, at)

    @pytest.mark.parametrize("seed", [1, 2, 3])
    @pytest.mark.parametrize("at", [date(2025, 1, 31), date(2026, 3, 29)])
    def test_generated_worlds(self, seed: int, at: date):
        world = world_of(seed)
        kids, eps = data_of(world)
        rows = list8(kids, eps, at=at)
        assert rows == list8_rows(world, at)
        assert any(r[1] != "0" for r in rows)

    def test_no_data_at_all(self):
        assert list8([], [], at=LIST8_DAY) == []
