"""Triage on a real store, asking the reference source servers over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from events.contracts.missing import (
    Child,
    ChildMatch,
    EpisodeReclassified,
    EpisodeType,
    InformationAdded,
    MissingReported,
    Placement,
    PoliceRiskGradeChanged,
    ReportWithdrawn,
    RiskGrade,
    WithdrawalReason,
)
from events.contracts.triage import RiskAssessed
from events.envelope import Envelope, NewEvent
from events.registry import Event
from events.store import Append, Commit, Projector
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from events.subscriptions import RetryPolicy
from events.subscriptions.store import StoreSubscription
from services.outbound import outbound_client
from services.records.children import ChildrenProjector
from services.records.episodes import EpisodesProjector
from services.triage.assessments import AssessmentsProjector
from services.triage.bootstrap import bootstrap
from services.triage.handlers import Triage
from services.triage.policy_file import load_policy
from services.triage.scheduler import ReviewScheduler
from services.triage.settings import TriageSettings
from services.triage.sources import SourceName
from services.triage.sources.http import SourceSettings
from services.triage.sources.settings import ADAPTERS
from services.triage.tables import assessments
from tests.reference import Reference, serve_reference
from tests.waiting import eventually

START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
CHILDREN = {
    "ada": ("FICT0001", "Ada", "Fictitious", date(2009, 3, 14)),
    "ben": ("FICT0002", "Ben", "Imaginary", date(2011, 9, 2)),
    "cleo": ("FICT0003", "Cleo", "Invented", date(2008, 11, 30)),
    "dan": ("FICT0004", "Dan", "Unknown", date(2010, 6, 21)),
}


@dataclass
class Clock:
    now: datetime = field(default=START + timedelta(hours=2))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    store: SqlEventStore
    reference: Reference
    triage: Triage
    clock: Clock

    async def report(
        self,
        who: str,
        *,
        grade: RiskGrade = RiskGrade.low,
        missing_since: datetime = START,
        matched: bool = False,
        episode_type: EpisodeType = EpisodeType.missing,
        placing_authority: str = "886",
    ) -> UUID:
        la_child_id, given, family, born = CHILDREN[who]
        episode_id = uuid4()
        report = MissingReported(
            episode_id=episode_id,
            police_force="KENT",
            police_reference=str(episode_id),
            reported_at=missing_since + timedelta(hours=1),
            missing_since=missing_since,
            episode_type=episode_type,
            police_risk_grade=grade,
            child=Child(
                la_child_id=la_child_id,
                given_name=given,
                family_name=family,
                date_of_birth=born,
                gender="not_known",
            ),
            placement=Placement(
                placing_authority=placing_authority, placement_type="foster_care"
            ),
            match=ChildMatch(status="matched", la_child_id=la_child_id, candidates=1)
            if matched
            else ChildMatch(status="unmatched"),
        )
        await self.store.append(
            f"episode-{episode_id}", [NewEvent(event=report)], expected_version=0
        )
        return episode_id

    async def then(self, episode_id: UUID, event: Event) -> None:
        await self.store.append(
            f"episode-{episode_id}", [NewEvent(event=event)], expected_version=None
        )

    async def handled_all(self) -> None:
        """Wait until triage has passed every event in the store."""
        head = await self.store.head()
        await eventually(lambda: self._checkpoint_at(head), what="triage caught up")

    async def _checkpoint_at(self, position: int) -> bool:
        return await self.store.checkpoint("triage", "store") >= position

    async def assessments(self, episode_id: UUID) -> list[Envelope]:
        stream = await self.store.read_stream(f"episode-{episode_id}")
        return [e for e in stream if e.type in ("RiskAssessed", "RiskReassessed")]

    async def assessed(self, episode_id: UUID, count: int = 1) -> list[Envelope]:
        async def enough() -> list[Envelope] | None:
            found = await self.assessments(episode_id)
            return found if len(found) >= count else None

        return await eventually(enough, what=f"{count} assessment(s)")


@asynccontextmanager
async def rig(database_url: str, budget_s: float = 5.0) -> AsyncIterator[Rig]:
    projectors: list[Projector] = [
        EpisodesProjector(),
        ChildrenProjector(),
        AssessmentsProjector(),
    ]
    store = SqlEventStore(create_engine(database_url), projectors=projectors)
    clock = Clock()
    async with serve_reference() as reference, outbound_client() as client:
        sources = [
            ADAPTERS[name](
                SourceSettings(
                    base_url=reference.base_url(name),
                    timeout_s=5.0,  # a loaded machine is slow, not down
                    retries=0,
                    breaker_failures=1000,
                ),
                client,
            )
            for name in SourceName
        ]
        settings = TriageSettings(triage_budget_s=budget_s, triage_recheck_s=60.0)
        service = bootstrap(
            settings, store, load_policy(), sources=sources, now=clock,
            subscription=lambda subscriber: StoreSubscription(
                store, subscriber, retry=RetryPolicy(attempts=2)))  # fmt: skip
        stop = asyncio.Event()
        task = asyncio.create_task(service.subscription.run(stop))
        try:
            yield Rig(store, reference, service.triage, clock)
        finally:
            stop.set()
            await task
            await store.close()


@pytest.fixture
async def r(database_url: str) -> AsyncIterator[Rig]:
    async with rig(database_url) as r:
        yield r


async def test_a_new_report_is_assessed_from_every_source(r: Rig):
    episode_id = await r.report("ada")
    [assessed] = await r.assessed(episode_id)

    data = assessed.data
    assert assessed.type == "RiskAssessed"
    assert data["level"] == "high"  # the police said low: the sources raised it
    assert data["sources_answered"] == ["cme", "cse", "youth_justice"]
    assert data["sources_missing"] == []
    codes = {f["code"] for f in data["factors"]}
    assert {"yj_serious_harm", "county_lines", "police_grade"} <= codes
    assert {"strategy_discussion", "mcet_referral"} <= set(data["actions"])
    assert assessed.causation_id is not None and assessed.actor == "triage"


async def test_the_assessment_says_which_factors_are_exploitation(r: Rig):
    episode_id = await r.report("ada")
    [assessed] = await r.assessed(episode_id)
    assert assessed.schema_version == 2
    flags = {f["code"]: f["exploitation"] for f in assessed.data["factors"]}
    assert flags["county_lines"] and flags["criminal_exploitation"]
    assert not flags["yj_serious_harm"] and not flags["police_grade"]


async def test_a_source_that_is_down_is_named_then_asked_again(r: Rig):
    await r.reference.fault(SourceName.cse, down=True)
    episode_id = await r.report("cleo")
    [first] = await r.assessed(episode_id)
    assert first.data["sources_missing"] == ["cse"]
    assert "recheck_unanswered_sources" in first.data["actions"]

    await r.reference.fault(SourceName.cse, down=False)
    r.clock.now += timedelta(seconds=61)
    assert await ReviewScheduler(r.triage).review_due() == 1

    _, second = await r.assessed(episode_id, 2)
    assert second.type == "RiskReassessed"
    assert second.data["sources_missing"] == []
    assert "cse_high" in second.data["added"]
    assert second.data["trigger"] == "review"


async def test_a_slow_source_does_not_hold_triage(database_url: str):
    async with rig(database_url, budget_s=0.2) as r:
        await r.reference.fault(SourceName.youth_justice, latency_ms=5000)
        episode_id = await r.report("ada")
        [assessed] = await r.assessed(episode_id)
    assert assessed.data["sources_missing"] == ["youth_justice"]
    assert assessed.data["sources_answered"] == ["cme", "cse"]


async def test_garbage_from_a_source_counts_as_no_answer(r: Rig):
    await r.reference.fault(SourceName.cme, malformed="wrong_schema")
    episode_id = await r.report("ben")
    [assessed] = await r.assessed(episode_id)
    assert assessed.data["sources_missing"] == ["cme"]


async def test_a_police_update_reassesses_and_a_no_change_appends_nothing(r: Rig):
    episode_id = await r.report("dan", grade=RiskGrade.low)
    await r.assessed(episode_id)
    await r.then(
        episode_id,
        InformationAdded(episode_id=episode_id, received_at=START, information="x"),
    )
    await r.handled_all()
    assert len(await r.assessments(episode_id)) == 1  # nothing changed, nothing new

    await r.then(
        episode_id,
        PoliceRiskGradeChanged(
            episode_id=episode_id,
            previous=RiskGrade.low,
            grade=RiskGrade.high,
            changed_at=START,
        ),
    )
    _, changed = await r.assessed(episode_id, 2)

    assert changed.data["previous_level"] == "low"
    assert changed.data["level"] == "high"
    assert changed.data["trigger"] == "PoliceRiskGradeChanged"


async def test_time_reviews_survive_a_restart(database_url: str):
    async with rig(database_url) as r:
        episode_id = await r.report("dan")
        [first] = await r.assessed(episode_id)
    assert first.data["next_review_at"].startswith("2026-11-21T15:00")  # +24 h

    async with rig(database_url) as again:  # a new process, the same database
        again.clock.now = START + timedelta(hours=25)
        assert await ReviewScheduler(again.triage).review_due() == 1
        _, review = await again.assessed(episode_id, 2)
        assert await ReviewScheduler(again.triage).review_due() == 0

    assert "missing_24h" in review.data["added"]
    assert review.data["next_review_at"].startswith("2026-11-23T15:00")  # +72 h


async def test_earlier_episodes_of_the_same_child_count(r: Rig):
    for days_ago in (60, 20):
        earlier = await r.report(
            "dan", matched=True, missing_since=START - timedelta(days=days_ago)
        )
        await r.assessed(earlier)
    episode_id = await r.report("dan", matched=True)
    [assessed] = await r.assessed(episode_id)
    codes = {f["code"] for f in assessed.data["factors"]}
    assert "frequently_missing" in codes


async def test_earlier_episodes_count_only_within_their_window(r: Rig):
    for days_ago in (400, 200, 60):  # one too old for any window, one in 365 only
        earlier = await r.report(
            "dan", matched=True, missing_since=START - timedelta(days=days_ago)
        )
        await r.assessed(earlier)
    episode_id = await r.report("dan", matched=True)
    [assessed] = await r.assessed(episode_id)
    history = [f for f in assessed.data["factors"] if f["source"] == "history"]
    assert [(f["code"], f["evidence"]) for f in history] == [
        ("missing_before", "2 earlier missing in 365 days")
    ]


async def _history_of(r: Rig, episode_id: UUID) -> list[tuple[str, str]]:
    [assessed] = await r.assessed(episode_id)
    factors = assessed.data["factors"]
    return [(f["code"], f["evidence"]) for f in factors if f["source"] == "history"]


async def test_a_report_withdrawn_as_made_in_error_was_no_episode(r: Rig):
    """Two earlier reports in 90 days: one withdrawn as made in error, one cancelled
    (the child did go missing). Only the cancelled one counts (DOMAIN 1.2, 3.3)."""
    for days_ago, reason in ((30, WithdrawalReason.reported_in_error),
                             (20, WithdrawalReason.cancelled)):  # fmt: skip
        earlier = await r.report(
            "dan", matched=True, missing_since=START - timedelta(days=days_ago)
        )
        await r.then(earlier, ReportWithdrawn(
            episode_id=earlier, withdrawn_at=START, reason=reason))  # fmt: skip
    episode_id = await r.report("dan", matched=True)
    assert await _history_of(r, episode_id) == [
        ("missing_before", "1 earlier missing in 365 days")
    ]


async def test_earlier_away_episodes_are_counted_apart(r: Rig):
    """Two episodes away (whereabouts known) are not two missing ones (DOMAIN 9.3)."""
    for days_ago in (30, 20):
        await r.report(
            "dan", matched=True, missing_since=START - timedelta(days=days_ago),
            episode_type=EpisodeType.away,
        )  # fmt: skip
    episode_id = await r.report("dan", matched=True)
    assert await _history_of(r, episode_id) == []


async def test_an_away_episode_counts_time_only_once_reclassified_missing(r: Rig):
    """Away (SSDA903 A) has no 'missing over 24 hours' and no time reviews; the
    police say it is missing after all: assessed again, the time counts."""
    episode_id = await r.report("dan", episode_type=EpisodeType.away)
    r.clock.now = START + timedelta(hours=25)
    [first] = await r.assessed(episode_id)
    assert "missing_24h" not in {f["code"] for f in first.data["factors"]}
    assert first.data["next_review_at"] is None
    await r.then(episode_id, EpisodeReclassified(
        episode_id=episode_id, previous="away", episode_type="missing",
        reason="she left her aunt's", by="client:kent", role="police",
        reclassified_at=r.clock.now))  # fmt: skip
    _, second = await r.assessed(episode_id, 2)
    assert second.data["trigger"] == "EpisodeReclassified"
    assert "missing_24h" in second.data["added"]
    assert second.data["next_review_at"].startswith("2026-11-23T15:00")  # +72 h


async def test_a_child_placed_from_elsewhere_unknown_to_the_records(r: Rig):
    """The report's placing authority counts (DOMAIN 1.6, rule 18)."""
    episode_id = await r.report("dan", placing_authority="202")
    [assessed] = await r.assessed(episode_id)
    [ola] = [f for f in assessed.data["factors"] if f["code"] == "ola"]
    assert (ola["source"], ola["evidence"]) == ("report", "placed from LA 202")
    assert "notify_home_authority" in assessed.data["actions"]


async def test_a_source_down_at_a_review_does_not_lower_the_level(r: Rig):
    episode_id = await r.report("ada")
    [first] = await r.assessed(episode_id)
    await r.reference.fault(SourceName.youth_justice, down=True)
    r.clock.now = START + timedelta(hours=25)

    assert await ReviewScheduler(r.triage).review_due() == 1
    _, review = await r.assessed(episode_id, 2)

    assert review.data["level"] == first.data["level"] == "high"
    assert review.data["sources_missing"] == ["youth_justice"]
    assert "county_lines" not in review.data["removed"]


async def test_the_read_model_keeps_each_episodes_latest_assessment(database_url: str):
    """A group's assessments are projected in one statement: of two for one episode
    in the same group, the later is kept, and a later group replaces it."""
    store = SqlEventStore(
        create_engine(database_url), projectors=[AssessmentsProjector()]
    )
    one, two = uuid4(), uuid4()
    at = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def assessed(episode_id: UUID, level: RiskGrade, minutes: int) -> NewEvent:
        return NewEvent(
            event=RiskAssessed(
                episode_id=episode_id, level=level, score=10, factors=[], actions=[],
                sources_answered=[], sources_missing=[], policy_version="test",
                assessed_at=at + timedelta(minutes=minutes), trigger="reported",
            )
        )  # fmt: skip

    async def levels() -> dict[UUID, tuple[str, datetime]]:
        query = select(
            assessments.c.episode_id, assessments.c.level, assessments.c.assessed_at
        )
        return {row[0]: (row[1], row[2]) for row in await store.select(query)}

    try:
        await store.commit(
            Commit([
                Append(f"episode-{one}", [assessed(one, RiskGrade.low, 0),
                                          assessed(one, RiskGrade.high, 5)]),
                Append(f"episode-{two}", [assessed(two, RiskGrade.medium, 1)]),
            ])
        )  # fmt: skip
        assert await levels() == {
            one: ("high", at + timedelta(minutes=5)),
            two: ("medium", at + timedelta(minutes=1)),
        }

        await store.commit(
            Commit([Append(f"episode-{one}", [assessed(one, RiskGrade.medium, 9)])])
        )
        assert (await levels())[one] == ("medium", at + timedelta(minutes=9))
    finally:
        await store.close()
