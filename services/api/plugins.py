"""What one service shows on another's page: the composition root
(services/processes.py, tests/api.py) registers each service's readers in the
container, and the page that shows them calls them without importing that service.

- ``TimelineSource``: an episode's events a service keeps in its own streams (the
  notifier: the alerts about it; returns: its return interview), each as a
  ``TimelineEntry`` in plain words (timeline.py), for the episode page's timeline.
- ``OpenAlertsSource``: the alerts about some matter still open (nobody has acted on
  them yet), for the page that lists them (a strategy discussion to hold)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from events.store.sql import SqlEventStore
from services.api.timeline import OpenAlert, TimelineEntry

TimelineSource = Callable[[SqlEventStore, UUID], Awaitable[list[TimelineEntry]]]
"""``(store, episode_id)``: the episode's entries kept by one service."""

OpenAlertsSource = Callable[[SqlEventStore, str], Awaitable[list[OpenAlert]]]
"""``(store, matter)``: the open alerts about ``matter`` (``AlertMatter.kind``)."""
