"""The returns service composed from settings: its routes, its read model, and its
two workers (the subscription that opens and supersedes interviews, the scheduler
that records them overdue). Tests pass their own subscription or clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from fastapi import APIRouter

from events.envelope import utcnow
from events.runtime import Worker, subscription_for
from events.store import Projector
from events.store.sql import SqlEventStore
from events.subscriptions import Subscriber
from services.api.container import EpisodeSection
from services.api.plugins import TimelineSource
from services.returns import children, frequent_page, handlers, pages, routes
from services.returns.projector import ReturnInterviewsProjector
from services.returns.scheduler import OverdueScheduler
from services.returns.settings import ReturnsSettings


@dataclass(frozen=True)
class ReturnsService:
    returns: handlers.Returns
    subscription: Worker
    overdue: OverdueScheduler

    @property
    def workers(self) -> list[Worker]:
        return [self.subscription, self.overdue]


def routers() -> list[APIRouter]:
    return [routes.router, children.router, pages.router, frequent_page.router]


def staff_sections() -> dict[str, EpisodeSection]:
    """What the staff's ``GET /v1/episodes/{id}`` shows of this service's."""
    return {"return_interview": routes.episode_interview}


def timeline_sources() -> list[TimelineSource]:
    """What the episode page's timeline shows of this service's: the interview."""
    return [routes.interview_timeline]


def projectors() -> list[Projector]:
    return [ReturnInterviewsProjector()]


def bootstrap(
    settings: ReturnsSettings,
    store: SqlEventStore,
    *,
    subscription: Callable[[Subscriber], Worker] | None = None,
    now: Callable[[], datetime] = utcnow,
) -> ReturnsService:
    returns = handlers.Returns(store, settings.returns_deadline, now)
    subscriber = handlers.subscriber(returns)
    return ReturnsService(
        returns,
        (subscription or partial(subscription_for, settings, store))(subscriber),
        OverdueScheduler(returns, poll_s=settings.returns_overdue_poll_s),
    )
