"""Triage composed from settings: its sources, its policy and its two workers (the
subscription that assesses each report, and the scheduler of reviews). Tests and
benchmarks pass their own sources or clock instead."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import httpx

from events.envelope import utcnow
from events.runtime import Worker, subscription_for
from events.store import Projector
from events.store.sql import SqlEventStore
from events.subscriptions import Subscriber
from services.triage import handlers
from services.triage.assessments import AssessmentsProjector
from services.triage.policy import Policy
from services.triage.scheduler import ReviewScheduler
from services.triage.settings import TriageSettings
from services.triage.sources import RiskSource
from services.triage.sources.settings import build_sources


@dataclass(frozen=True)
class TriageService:
    triage: handlers.Triage
    subscription: Worker
    reviews: ReviewScheduler

    @property
    def workers(self) -> list[Worker]:
        return [self.subscription, self.reviews]


def projectors() -> list[Projector]:
    return [AssessmentsProjector()]


def bootstrap(
    settings: TriageSettings,
    store: SqlEventStore,
    policy: Policy,
    *,
    new_client: Callable[[], httpx.AsyncClient] = httpx.AsyncClient,
    sources: Sequence[RiskSource] | None = None,
    subscription: Callable[[Subscriber], Worker] | None = None,
    now: Callable[[], datetime] = utcnow,
) -> TriageService:
    triage = handlers.Triage(
        store,
        build_sources(settings, new_client) if sources is None else sources,
        policy,
        council=settings.council_la_code,
        budget_s=settings.triage_budget_s,
        recheck_s=settings.triage_recheck_s,
        now=now,
    )
    subscriber = handlers.subscriber(triage)
    return TriageService(
        triage,
        (subscription or partial(subscription_for, settings, store))(subscriber),
        ReviewScheduler(triage, poll_s=settings.triage_review_poll_s),
    )
