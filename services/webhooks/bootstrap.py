"""The webhook subscriptions composed from settings: their routes, and their one
worker, the delivery. Tests pass their own clock or client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from fastapi import APIRouter

from events.envelope import utcnow
from events.runtime import Worker
from events.store import Projector
from events.store.sql import SqlEventStore
from services.webhooks import routes
from services.webhooks.delivery import Deliveries
from services.webhooks.settings import WebhooksSettings


@dataclass(frozen=True)
class WebhooksService:
    deliveries: Deliveries

    @property
    def workers(self) -> list[Worker]:
        return [self.deliveries]


def routers() -> list[APIRouter]:
    return [routes.router]


def projectors() -> list[Projector]:
    return []


def bootstrap(
    settings: WebhooksSettings,
    store: SqlEventStore,
    client: httpx.AsyncClient,
    *,
    allowed_hosts: frozenset[str] = frozenset(),
    now: Callable[[], datetime] = utcnow,
) -> WebhooksService:
    """``allowed_hosts``: the alert webhooks' allow-list, which these share."""
    return WebhooksService(Deliveries(settings, store, client, allowed_hosts, now=now))
