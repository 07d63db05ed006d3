"""What every route depends on, built once by the composition root of its process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from events.envelope import utcnow
from events.runtime import Worker
from events.store.sql import SqlEventStore
from services.api.auth import ClientRegistry
from services.api.links import AckLinks
from services.api.plugins import OpenAlertsSource, TimelineSource
from services.api.ratelimit import RateLimiter
from services.api.readiness import Check
from services.api.settings import HttpSettings
from services.api.web.parts import Web, web_for
from services.records.children import ChildMatcher
from services.records.frequency import FrequentlyMissing

EpisodeSection = Callable[[SqlEventStore, UUID], Awaitable[dict[str, Any] | None]]
"""A part of an episode another service keeps (the return interview), read by
that service for the staff's view of the episode: intake shows it without
importing it."""
EpisodeAcknowledgements = Callable[
    [SqlEventStore, UUID], Awaitable[list[dict[str, Any]]]
]
"""Who acknowledged the episode's alerts, by role and time (the notifier's),
for the police's and the staff's view of the episode."""


@dataclass
class Container:
    """``workers`` run beside the app: the embedded default runs every service here;
    ``checks`` are theirs, for ``/ready`` (services/api/readiness.py)."""

    store: SqlEventStore
    clients: ClientRegistry
    limiter: RateLimiter
    """Requests, by API client."""
    auth_failures: RateLimiter
    """Failed authentications, by source address."""
    children: ChildMatcher
    web: Web
    workers: Sequence[Worker] = ()
    checks: Mapping[str, Check] = field(default_factory=dict)
    links: AckLinks | None = None
    notify_callback_token: str | None = None
    webhook_hosts: frozenset[str] = frozenset()
    """Hosts a recipient's webhook may name whatever they are (the allow-list)."""
    now: Callable[[], datetime] = utcnow
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    staff_sections: Mapping[str, EpisodeSection] = field(default_factory=dict)
    """By the key each has in the staff's ``GET /v1/episodes/{id}``."""
    frequently_missing: FrequentlyMissing = field(default_factory=FrequentlyMissing)
    """Triage's policy figure, for the children's histories."""
    timeline_sources: Sequence[TimelineSource] = ()
    """The episode page's events other services keep (services/api/plugins.py)."""
    open_alerts: OpenAlertsSource | None = None
    """The notifier's open alerts about a matter (a strategy discussion)."""
    acknowledgements: EpisodeAcknowledgements | None = None
    topic_prefix: str = "lantern."
    """The Kafka topics' prefix, for the AsyncAPI document (/asyncapi.json)."""


def container_for(
    settings: HttpSettings,
    store: SqlEventStore,
    *,
    workers: Sequence[Worker] = (),
    checks: Mapping[str, Check] | None = None,
    links: AckLinks | None = None,
    notify_callback_token: str | None = None,
    webhook_hosts: frozenset[str] = frozenset(),
    staff_sections: Mapping[str, EpisodeSection] | None = None,
    frequently_missing: FrequentlyMissing | None = None,
    timeline_sources: Sequence[TimelineSource] = (),
    open_alerts: OpenAlertsSource | None = None,
    acknowledgements: EpisodeAcknowledgements | None = None,
) -> Container:
    return Container(
        store=store,
        clients=ClientRegistry(store.engine),
        limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
        auth_failures=RateLimiter(
            settings.auth_failures_per_minute, settings.auth_failures_burst
        ),
        children=ChildMatcher(store),
        web=web_for(store.engine, settings),
        workers=workers,
        checks=checks or {},
        links=links,
        notify_callback_token=notify_callback_token,
        webhook_hosts=webhook_hosts,
        staff_sections=staff_sections or {},
        frequently_missing=frequently_missing or FrequentlyMissing(),
        timeline_sources=timeline_sources,
        open_alerts=open_alerts,
        acknowledgements=acknowledgements,
        topic_prefix=settings.kafka_topic_prefix,
    )
