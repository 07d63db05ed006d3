"""The reports' read model as the projector keeps it, on SQLite and PostgreSQL: a
group that reports, withdraws and returns in one commit is projected in order; a
rebuild gives the same rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import select

from events.envelope import NewEvent
from events.store import Append, Commit
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from services.processes import projectors
from services.reports.tables import report_care_periods, report_episodes
from tests.integration.test_report_command import events_of
from tests.reports_world import Ep, Kid, World, z


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlEventStore]:
    store = SqlEventStore(create_engine(database_url), projectors=projectors())
    yield store
    await store.close()


def a_world() -> World:
    kid = Kid("P1", uasc=False, placing="886", periods=[(date(2020, 1, 1), None)])
    return World(
        kids=[kid],
        eps=[
            Ep("P1-1", "P1", "M", z("2026-03-28T23:30"), in_error=True),
            Ep("P1-2", "P1", "A", z("2026-03-29T00:30"), z("2026-03-29T03:00"),
               offered=True, accepted=True, completed=z("2026-03-30T12:00"),
               reasons=["conflict", "other"], reported_as="M"),
            Ep("P1-3", "P1", "M", z("2026-04-02T10:00"), cancelled=True),
        ],
    )  # fmt: skip


async def rows(store: SqlEventStore) -> list[tuple[object, ...]]:
    episodes = report_episodes.c
    return [
        tuple(r)
        for r in await store.select(
            select(
                episodes.la_child_id, episodes.episode_type, episodes.start_date,
                episodes.ended_at, episodes.rhi_due_date, episodes.rhi_offered,
                episodes.rhi_accepted, episodes.rhi_completed_at, episodes.reasons,
            ).order_by(episodes.started_at)
        )
    ]  # fmt: skip


async def test_one_commit_is_projected_in_order_and_rebuilt_alike(
    store: SqlEventStore,
):
    appends = [
        Append(stream, [NewEvent(event=e) for e in events])
        for stream, events in events_of(a_world())
    ]
    await store.commit(Commit(appends))
    projected = await rows(store)
    assert projected == [
        ("P1", "A", date(2026, 3, 29), z("2026-03-29T03:00"), date(2026, 4, 1),
         True, True, z("2026-03-30T12:00"), ["conflict", "other"]),
        ("P1", "M", date(2026, 4, 2), None, None, False, None, None, []),
    ]  # fmt: skip
    periods = await store.select(select(report_care_periods.c.start_date))
    assert [tuple(p) for p in periods] == [(date(2020, 1, 1),)]
    await store.rebuild_projections()
    assert await rows(store) == projected
