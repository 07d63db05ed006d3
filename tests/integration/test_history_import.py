"""A council's history imported on a real store (SQLite and PostgreSQL): the episodes
and return interviews read models show what the files say, a second import records
nothing, a bad row imports nothing, and the triage, returns and notifier subscribers
running beside it do nothing for the past."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select

from events.contracts.children import ChildRecorded
from events.contracts.missing import (
    Child,
    ChildFound,
    ChildMatch,
    MissingReported,
    Placement,
)
from events.contracts.returns import Deadline
from events.contracts.triage import Factor, RiskAssessed
from events.envelope import NewEvent
from events.history import history_actor, is_history
from events.store import Append, Commit
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from events.subscriptions.store import StoreSubscription
from services.history.importer import Imported, import_folder
from services.notifier.tables import alerts
from services.processes import projectors
from services.records.tables import children, episodes
from services.returns import bootstrap as returns
from services.returns.settings import ReturnsSettings
from services.returns.tables import return_interviews
from services.triage import bootstrap as triage
from services.triage.policy_file import load_policy
from services.triage.settings import TriageSettings
from tests.integration.test_notifier import rig as notifier_rig
from tests.waiting import eventually

NOW = datetime.now(UTC)
EPISODES = """la_child_id,episode_type,start,end,rhi_offered,rhi_accepted,rhi_completed_at,reasons
C1,M,2025-12-19T17:00:00Z,2025-12-19T18:00:00Z,Y,Y,2025-12-22T10:00:00Z,conflict;other
C1,A,2026-01-10T17:00:00+00:00,2026-01-10T20:00:00+00:00,y,n,,
C2,M,2025-12-19T17:00:00Z,2025-12-19T18:00:00Z,,,,
C2,M,2025-12-22T17:00:00Z,2025-12-23T08:00:00Z,Y,NA,,
C3,M,2026-11-01T09:00:00Z,,NA,,,
"""  # noqa: E501
CARE_PERIODS = """la_child_id,start_date,end_date
C1,2021-06-01,
C2,2019-01-01,2020-01-01
C2,2021-01-01,
"""
CONFERENCES = "la_child_id,held_on\nC1,2026-02-01\n"


def a_child(la_child_id: str) -> ChildRecorded:
    return ChildRecorded(
        la_child_id=la_child_id, given_name="Ada", family_name=f"Ada{la_child_id}",
        date_of_birth=date(2010, 3, 14), looked_after=True, uasc=False,
        placing_authority="886", ola=False,
    )  # fmt: skip


def a_folder(root: Path, name: str = "kent-2025", **files: str) -> Path:
    folder = root / name
    folder.mkdir()
    contents = {
        "episodes.csv": EPISODES,
        "care_periods.csv": CARE_PERIODS,
        "family_group_conferences.csv": CONFERENCES,
        **files,
    }
    for file, text in contents.items():
        (folder / file).write_text(text)
    return folder


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlEventStore]:
    store = SqlEventStore(create_engine(database_url), projectors=projectors())
    await store.commit(
        Commit(
            [Append(f"child-{c}", [NewEvent(a_child(c))]) for c in ("C1", "C2", "C3")]
        )
    )
    try:
        yield store
    finally:
        await store.close()


async def run_import(store: SqlEventStore, folder: Path) -> Imported:
    return await import_folder(
        store, folder, source=folder.name, deadline=Deadline.working_days, now=NOW
    )


async def rows(store: SqlEventStore, query: Any) -> list[Any]:
    return list(await store.select(query))


async def test_the_read_models_show_the_history(store: SqlEventStore, tmp_path: Path):
    imported = await run_import(store, a_folder(tmp_path))
    assert imported.problems == [] and imported.children == 3
    found = await rows(
        store,
        select(episodes.c.police_force, episodes.c.status, episodes.c.missing_since)
        .order_by(episodes.c.child_key, episodes.c.missing_since),
    )  # fmt: skip
    assert [(r[0], r[1]) for r in found] == [("HISTORY", "found")] * 4 + [
        ("HISTORY", "open")
    ]
    assert found[0][2] == datetime(2025, 12, 19, 17, tzinfo=UTC)
    interviews = await rows(
        store,
        select(return_interviews.c.la_child_id, return_interviews.c.status,
               return_interviews.c.due_date, return_interviews.c.late)
        .order_by(return_interviews.c.la_child_id, return_interviews.c.returned_at),
    )  # fmt: skip
    assert [tuple(r) for r in interviews] == [
        ("C1", "completed", date(2025, 12, 24), False),
        ("C1", "refused", date(2026, 1, 14), False),
        ("C2", "superseded", date(2025, 12, 24), False),
        ("C2", "overdue", date(2025, 12, 30), False),
    ]
    [record] = await rows(
        store, select(children.c.record).where(children.c.la_child_id == "C2")
    )
    assert [p["end_date"] for p in record[0]["care_periods"]] == ["2020-01-01", None]
    log = await store.read_all(after=0, limit=1000)
    imported_events = [e for e in log if e.position > 3]
    assert {e.actor for e in imported_events} == {history_actor("kent-2025")}
    conference = [e for e in log if e.type == "FamilyGroupConferenceRecorded"]
    assert conference[0].occurred_at == datetime(2026, 2, 1, tzinfo=UTC)


async def test_a_second_import_records_nothing(store: SqlEventStore, tmp_path: Path):
    first = await run_import(store, a_folder(tmp_path))
    head = await store.head()
    again = await run_import(store, a_folder(tmp_path, "renamed"))
    assert first.recorded == head - 3 and first.recorded > 20
    assert again == Imported([], 0, 3)
    assert await store.head() == head


async def test_one_bad_row_imports_nothing(store: SqlEventStore, tmp_path: Path):
    bad = EPISODES + "C2,M,2026-03-01T09:00:00,,,,,\n"
    imported = await run_import(store, a_folder(tmp_path, **{"episodes.csv": bad}))
    assert imported.problems == [
        "episodes.csv:7: start: '2026-03-01T09:00:00' has no UTC offset "
        "(end it with Z or +01:00)"
    ]
    assert await store.head() == 3


async def test_services_running_beside_it_do_nothing_for_the_past(
    store: SqlEventStore, tmp_path: Path
):
    def fed(subscriber: Any) -> StoreSubscription:
        return StoreSubscription(store, subscriber, poll_interval=0.05)

    settings = TriageSettings()
    services = [
        triage.bootstrap(
            settings, store, load_policy(settings.triage_policy_file),
            sources=[], subscription=fed,
        ).subscription,
        returns.bootstrap(ReturnsSettings(), store, subscription=fed).subscription,
    ]  # fmt: skip
    stop = asyncio.Event()
    tasks = [asyncio.create_task(s.run(stop)) for s in services]
    try:
        await run_import(store, a_folder(tmp_path))
        head = await store.head()

        async def caught_up() -> bool:
            marks = [await store.checkpoint(n, "store") for n in ("triage", "returns")]
            return min(marks) >= head

        await eventually(caught_up, what="triage and returns caught up")
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    log = await store.read_all(after=0, limit=1000)
    assert await store.head() == head
    assert all(is_history(e) for e in log[3:])
    assert not [e for e in log if e.type == "RiskAssessed"]


async def test_the_notifier_raises_no_alert_for_history(database_url: str):
    async with notifier_rig(database_url) as r:
        episode_id = uuid4()
        past = datetime(2025, 12, 19, 17, tzinfo=UTC)
        report = MissingReported(
            episode_id=episode_id, police_force="HISTORY",
            police_reference=f"history/{episode_id}", reported_at=past,
            missing_since=past, episode_type="missing", police_risk_grade="high",
            child=Child(la_child_id="C1", given_name="Ada", family_name="Fictitious",
                        date_of_birth=date(2010, 3, 14), gender="not_known"),
            placement=Placement(placing_authority="886", placement_type="other"),
            match=ChildMatch(status="matched", la_child_id="C1", candidates=1),
        )  # fmt: skip
        assessed = RiskAssessed(
            episode_id=episode_id, level="high", score=90,
            factors=[Factor(code="cse_high", source="cse", evidence="CSE risk high",
                            weight=40, exploitation=True)],
            actions=[], sources_answered=["cse"], sources_missing=[],
            policy_version="test", assessed_at=past + timedelta(minutes=1),
            trigger="reported",
        )  # fmt: skip
        actor = history_actor("kent-2025")
        await r.store.commit(
            Commit([Append(f"episode-{episode_id}", [
                NewEvent(report, actor=actor, occurred_at=past),
                NewEvent(assessed, actor=actor, occurred_at=past)])])
        )  # fmt: skip
        await r.handled()
        assert await r.alert_rows(episode_id) == []
        async with r.store.engine.connect() as conn:
            assert (await conn.execute(select(alerts.c.alert_id))).all() == []


async def test_a_history_return_alone_opens_no_interview(store: SqlEventStore):
    """The import records each interview itself; the returns service leaves the past
    alone, even a return recorded without its interview."""
    service = returns.bootstrap(
        ReturnsSettings(),
        store,
        subscription=lambda s: StoreSubscription(store, s, poll_interval=0.05),
    )
    episode_id, past = uuid4(), datetime(2025, 12, 19, 17, tzinfo=UTC)
    report = MissingReported(
        episode_id=episode_id, police_force="HISTORY",
        police_reference=f"history/{episode_id}", reported_at=past,
        missing_since=past, episode_type="missing", police_risk_grade="low",
        child=Child(la_child_id="C1", given_name="Ada", family_name="AdaC1",
                    date_of_birth=date(2010, 3, 14), gender="not_known"),
        placement=Placement(placing_authority="886", placement_type="other"),
        match=ChildMatch(status="matched", la_child_id="C1", candidates=1),
    )  # fmt: skip
    found = ChildFound(
        episode_id=episode_id, found_at=past + timedelta(hours=1),
        returned_to="other", safe_and_well_check=False,
    )  # fmt: skip
    actor = history_actor("kent-2025")
    await store.commit(
        Commit([Append(f"episode-{episode_id}", [
            NewEvent(report, actor=actor, occurred_at=past),
            NewEvent(found, actor=actor, occurred_at=past)])])
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(service.subscription.run(stop))
    head = await store.head()
    try:
        await eventually(
            lambda: _at_least(store, "returns", head), what="returns caught up"
        )
    finally:
        stop.set()
        await task
    assert await store.read_stream(f"interview-{episode_id}") == []


async def _at_least(store: SqlEventStore, subscriber: str, head: int) -> bool:
    return await store.checkpoint(subscriber, "store") >= head
