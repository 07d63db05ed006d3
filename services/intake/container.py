"""What intake's routes depend on, built once by the composition root."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from events.envelope import utcnow
from events.runtime import Worker
from events.store.sql import SqlEventStore
from services.intake.auth import ClientRegistry
from services.intake.ratelimit import RateLimiter
from services.notifier.links import AckLinks
from services.records.directory import ChildMatcher


@dataclass
class Container:
    """``workers`` run beside the app: the embedded default runs every service here."""

    store: SqlEventStore
    clients: ClientRegistry
    limiter: RateLimiter
    children: ChildMatcher
    workers: Sequence[Worker] = ()
    links: AckLinks | None = None
    notify_callback_token: str | None = None
    now: Callable[[], datetime] = utcnow
    stop: asyncio.Event = field(default_factory=asyncio.Event)
