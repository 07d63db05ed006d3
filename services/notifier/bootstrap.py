"""The notifier composed from settings: channels, the recipients directory, and its
three workers (the subscription that raises alerts, the dispatcher that sends them,
the escalation scheduler). Tests pass their own channels, directory or clock."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import httpx
from fastapi import APIRouter

from events.envelope import utcnow
from events.runtime import Worker, subscription_for
from events.store import Projector
from events.store.sql import SqlEventStore
from events.subscriptions import RetryPolicy, Subscriber
from services.api.links import AckLinks
from services.api.plugins import OpenAlertsSource, TimelineSource
from services.api.readiness import Check
from services.notifier import api, handlers, pages, plugins
from services.notifier.channels import Channel
from services.notifier.channels.settings import build_channels
from services.notifier.dispatcher import Dispatcher
from services.notifier.escalation import EscalationScheduler
from services.notifier.failures import DeliveryPolicy
from services.notifier.projector import AlertsProjector
from services.notifier.readiness import unreachable
from services.notifier.recipients import api as recipients_api
from services.notifier.recipients.projector import (
    RecipientsProjector,
    load_directory,
)
from services.notifier.routing import Directory
from services.notifier.settings import NotifierSettings


@dataclass(frozen=True)
class NotifierService:
    notifier: handlers.Notifier
    subscription: Worker
    dispatcher: Dispatcher
    escalation: EscalationScheduler

    @property
    def workers(self) -> list[Worker]:
        """In stopping order: the dispatcher sends what the handlers claimed."""
        return [self.subscription, self.dispatcher, self.escalation]

    @property
    def checks(self) -> dict[str, Check]:
        """For ``/ready``: degraded while a recipient has no channel set up."""
        return {"channels": functools.partial(unreachable, self.notifier)}


acknowledgements = api.episode_acknowledgements
"""For the episode's view (intake's): who acknowledged, by role and time."""


def routers() -> list[APIRouter]:
    return [api.router, recipients_api.router, pages.router]


def projectors() -> list[Projector]:
    return [AlertsProjector(), RecipientsProjector()]


def timeline_sources() -> list[TimelineSource]:
    """What the episode page's timeline shows of this service's: its alerts."""
    return [plugins.alerts_timeline]


def open_alerts() -> OpenAlertsSource:
    """The alerts about a matter nobody has acted on (a strategy discussion)."""
    return plugins.open_alerts


def bootstrap(
    settings: NotifierSettings,
    store: SqlEventStore,
    client: httpx.AsyncClient,
    links: AckLinks | None,
    *,
    channels: Mapping[str, Channel] | None = None,
    directory: Callable[[], Awaitable[Directory]] | None = None,
    subscription: Callable[[Subscriber], Worker] | None = None,
    lease: timedelta | None = None,
    now: Callable[[], datetime] = utcnow,
) -> NotifierService:
    channels = build_channels(settings, client) if channels is None else channels

    async def recipients() -> Directory:
        return await load_directory(store)

    notifier = handlers.Notifier(
        store,
        directory or recipients,
        configured_channels=frozenset(channels),
        council=settings.council_la_code,
        escalate_after=timedelta(minutes=settings.notifier_escalate_after_minutes),
        update_window=timedelta(seconds=settings.notifier_update_window_s),
        lease=lease or timedelta(seconds=settings.notifier_lease_s),
        now=now,
    )
    retry = RetryPolicy(
        first_delay=settings.notifier_retry_first_s,
        max_delay=settings.notifier_retry_max_s,
    )
    policy = DeliveryPolicy(
        settings.notifier_attempts_per_channel,
        retry,
        attempts_on_last_channel=settings.notifier_attempts_on_last_channel,
    )
    subscriber = handlers.subscriber(notifier)
    return NotifierService(
        notifier,
        (subscription or partial(subscription_for, settings, store))(subscriber),
        Dispatcher(
            notifier, channels, links, policy=policy, poll_s=settings.notifier_poll_s
        ),
        EscalationScheduler(notifier, poll_s=settings.notifier_escalation_poll_s),
    )
