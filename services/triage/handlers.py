"""Triage's handlers: assess each new episode, and again when something changes.

Sources are asked concurrently and waited for at most the budget; whatever has not
answered by then is named in the assessment as unanswered, and the episode is looked
at again later (see scheduler.py), so a slow system never holds up an alert.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, cast
from uuid import UUID

import structlog
from sqlalchemy import bindparam, func, select
from sqlalchemy.sql import Executable

from events.contracts.children import ChildRecorded
from events.contracts.missing import (
    ChildFound,
    ChildSighted,
    EpisodeReclassified,
    EpisodeType,
    InformationAdded,
    MissingReported,
    PoliceRiskGradeChanged,
    ReportWithdrawn,
    RiskGrade,
    WithdrawalReason,
)
from events.contracts.triage import (
    FrequentlyMissingCrossed,
    RiskAssessed,
    RiskReassessed,
)
from events.envelope import Envelope, utcnow
from events.history import is_history
from events.registry import Event
from events.store.sql import SqlEventStore
from events.streams import Category, stream_name
from events.subscriptions import Handler, Output, Subscriber
from services.records.children import child_record
from services.records.council import home_authority
from services.records.tables import episodes
from services.triage.interviews import interview_concerns
from services.triage.policy import Assessment, Earlier, Policy, Situation, assess
from services.triage.sources import (
    ChildRef,
    NotKnown,
    RiskSource,
    SourceFacts,
    SourceName,
    SourceUnavailableError,
)

log = structlog.get_logger()
NAME = "triage"
HISTORY_WINDOWS = (30, 90, 365)


@dataclass(frozen=True)
class EpisodeView:
    """What triage folds out of an episode's stream."""

    report: MissingReported
    grade: RiskGrade
    episode_type: EpisodeType
    open: bool
    last: RiskAssessed | RiskReassessed | None
    crossed: bool = False
    """The child crossed the frequently-missing threshold with this episode."""
    trace_context: str | None = None
    """The report's trace, for a review to carry on (events/tracing.py)."""

    @property
    def stream_id(self) -> str:
        return stream_name(Category.episode, self.report.episode_id)


def fold(events: Sequence[Event]) -> EpisodeView | None:
    view: EpisodeView | None = None
    for event in events:
        if isinstance(event, MissingReported):
            report = event
            view = EpisodeView(
                report, report.police_risk_grade, report.episode_type, True, None
            )
        elif view is None:
            continue
        elif isinstance(event, PoliceRiskGradeChanged):
            view = replace(view, grade=event.grade)
        elif isinstance(event, EpisodeReclassified):
            view = replace(view, episode_type=event.episode_type)
        elif isinstance(event, ChildFound | ReportWithdrawn):
            view = replace(view, open=False)
        elif isinstance(event, RiskAssessed | RiskReassessed):
            view = replace(view, last=event)
        elif isinstance(event, FrequentlyMissingCrossed):
            view = replace(view, crossed=True)
    return view


@functools.cache
def _history_query(windows: tuple[int, ...]) -> Executable:
    """Built once per set of windows: building it per read cost more than the read."""
    same_child = (
        select(episodes.c.child_key)
        .where(episodes.c.episode_id == bindparam("episode_id"))
        .scalar_subquery()
    )
    kind = (episodes.c.episode_type, episodes.c.withdrawal_reason)
    return (
        select(
            *kind,
            *(
                func.count().filter(
                    episodes.c.missing_since >= bindparam(f"from_{days}")
                )
                for days in windows
            ),
        )
        .where(
            episodes.c.child_key == same_child,
            episodes.c.episode_id != bindparam("episode_id"),
            episodes.c.missing_since < bindparam("since"),
            episodes.c.missing_since >= bindparam(f"from_{windows[-1]}"),
        )
        .group_by(*kind)
    )


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True)
class Triage:
    """Triage's dependencies, bound once by the composition root."""

    store: SqlEventStore
    sources: Sequence[RiskSource]
    policy: Policy
    council: str
    """This council's DfE LA code: a child placed by any other is an OLA child."""
    budget_s: float = 2.0
    recheck_s: float = 60.0
    now: Callable[[], datetime] = utcnow

    async def load(self, episode_id: UUID) -> EpisodeView | None:
        envelopes = await self.store.read_stream(
            stream_name(Category.episode, episode_id)
        )
        view = fold([e.event for e in envelopes])
        traced = [e.trace_context for e in envelopes if e.trace_context]
        return replace(view, trace_context=traced[-1]) if view and traced else view

    async def assess(self, view: EpisodeView) -> tuple[Assessment, datetime | None]:
        """Ask the sources, weigh everything; and when to look again."""
        now = self.now()
        report = view.report
        child = ChildRef(
            la_child_id=report.match.la_child_id or report.child.la_child_id,
            given_name=report.child.given_name,
            family_name=report.child.family_name,
            date_of_birth=report.child.date_of_birth,
        )
        (answers, unanswered), directory, history, concerns = await asyncio.gather(
            self.ask_sources(child),
            self._directory(report),
            self._history(report),
            interview_concerns(self.store, report),
        )
        hours = (now - report.missing_since).total_seconds() / 3600
        situation = Situation(
            police_grade=view.grade,
            episode_type=view.episode_type,
            age=age_on(report.child.date_of_birth, report.missing_since.date()),
            placement_type=report.placement.placement_type,
            reported_at=report.reported_at,
            hours_missing=hours,
            history=history,
            directory=directory,
            home_authority=home_authority(self.council, report.placement, directory),
            answers=answers,
            unanswered=unanswered,
            last_known=view.last.factors if view.last else (),
            interview_concerns=concerns,
        )
        assessment = assess(situation, self.policy)
        return assessment, self._next_review(view, hours, unanswered, now)

    async def ask_sources(
        self, child: ChildRef
    ) -> tuple[dict[SourceName, SourceFacts | NotKnown], list[SourceName]]:
        tasks = {s.name: asyncio.ensure_future(s.lookup(child)) for s in self.sources}
        if tasks:
            await asyncio.wait(tasks.values(), timeout=self.budget_s)
        answers: dict[SourceName, SourceFacts | NotKnown] = {}
        for name, task in tasks.items():
            if not task.done():
                task.cancel()
                log.warning("source_over_budget", source=name)
            elif isinstance(task.exception(), SourceUnavailableError):
                continue
            elif task.exception() is not None:
                log.error(
                    "source_failed",
                    source=name,
                    error_type=type(task.exception()).__name__,
                )
            else:
                answers[name] = task.result()
        return answers, [name for name in tasks if name not in answers]

    async def _directory(self, report: MissingReported) -> ChildRecorded | None:
        if not report.match.la_child_id:
            return None
        return await child_record(self.store, report.match.la_child_id)

    async def _history(self, report: MissingReported) -> list[Earlier]:
        """Earlier episodes of the same child (any force), by type and end, per window
        in days: counted by the database, however long the child's history."""
        windows = tuple(sorted({*HISTORY_WINDOWS, self.policy.frequently_missing_days}))
        since = report.missing_since
        rows = await self.store.select(
            _history_query(windows),
            {
                "episode_id": report.episode_id,
                "since": since,
                **{f"from_{days}": since - timedelta(days=days) for days in windows},
            },
        )
        return [
            Earlier(
                EpisodeType(episode_type),
                WithdrawalReason(withdrawn) if withdrawn else None,
                dict(zip(windows, counts, strict=True)),
            )
            for episode_type, withdrawn, *counts in rows
        ]

    def _next_review(
        self,
        view: EpisodeView,
        hours: float,
        unanswered: list[SourceName],
        now: datetime,
    ) -> datetime | None:
        due = [
            view.report.missing_since + timedelta(hours=h)
            for h in self.policy.review_hours(view.episode_type)
            if h > hours
        ]
        if unanswered and self.sources:
            due.append(now + timedelta(seconds=self.recheck_s))
        return min(due, default=None)

    def first(
        self, view: EpisodeView, a: Assessment, review: datetime | None
    ) -> RiskAssessed:
        return RiskAssessed(**self._recorded(view, a, review, "reported"))

    def change(
        self, view: EpisodeView, a: Assessment, review: datetime | None, trigger: str
    ) -> RiskReassessed | None:
        """The difference from the last assessment, or None when nothing changed."""
        last = view.last
        if last is None:
            return None
        before = {f.code for f in last.factors}
        after = {f.code for f in a.factors}
        if (a.level, after, a.unanswered) == (last.level, before, last.sources_missing):
            return None
        return RiskReassessed(
            **self._recorded(view, a, review, trigger),
            previous_level=last.level,
            added=sorted(after - before),
            removed=sorted(before - after),
        )

    def crossing(
        self, view: EpisodeView, a: Assessment, cause: Envelope
    ) -> list[Output]:
        """The crossing of the frequently-missing threshold, once per episode; never
        for the past a history import brings."""
        if a.crossed is None or view.crossed or is_history(cause):
            return []
        crossed = FrequentlyMissingCrossed(
            episode_id=view.report.episode_id,
            la_child_id=view.report.match.la_child_id,
            episodes=a.crossed,
            days=self.policy.frequently_missing_days,
            threshold=self.policy.frequently_missing_episodes,
            crossed_at=self.now(),
        )
        return [Output(view.stream_id, crossed)]

    def _recorded(
        self, view: EpisodeView, a: Assessment, review: datetime | None, trigger: str
    ) -> dict[str, Any]:
        return {
            "episode_id": view.report.episode_id,
            "level": a.level,
            "score": a.score,
            "factors": a.factors,
            "actions": a.actions,
            "sources_answered": a.answered,
            "sources_missing": a.unanswered,
            "policy_version": a.policy_version,
            "assessed_at": self.now(),
            "trigger": trigger,
            "next_review_at": review,
        }


def subscriber(triage: Triage) -> Subscriber:
    async def assess_reported(envelope: Envelope) -> list[Output]:
        if is_history(envelope):
            return []  # the past: recorded by its import, not news
        report = cast(MissingReported, envelope.event)
        view = await triage.load(report.episode_id)
        if view is None or view.last is not None:
            return []  # already assessed: a redelivery
        assessment, review = await triage.assess(view)
        first = Output(view.stream_id, triage.first(view, assessment, review))
        return [first, *triage.crossing(view, assessment, envelope)]

    async def reassess_on_update(envelope: Envelope) -> list[Output]:
        if is_history(envelope):
            return []  # the past: recorded by its import, not news
        view = await triage.load(UUID(str(envelope.data["episode_id"])))
        if view is None or not view.open or view.last is None:
            return []
        assessment, review = await triage.assess(view)
        changed = triage.change(view, assessment, review, trigger=envelope.type)
        outputs = [Output(view.stream_id, changed)] if changed else []
        if envelope.type == EpisodeReclassified.type_name:  # away -> missing adds one
            outputs += triage.crossing(view, assessment, envelope)
        return outputs

    handlers: dict[str, list[Handler]] = {
        MissingReported.type_name: [assess_reported],
        PoliceRiskGradeChanged.type_name: [reassess_on_update],
        ChildSighted.type_name: [reassess_on_update],
        InformationAdded.type_name: [reassess_on_update],
        EpisodeReclassified.type_name: [reassess_on_update],
    }
    return Subscriber(NAME, handlers)
