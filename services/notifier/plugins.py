"""What the notifier shows on other services' pages (services/api/plugins.py),
registered by the composition root: an episode's alerts in its timeline, and the
alerts about a matter still open."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import bindparam, select

from events.store.sql import SqlEventStore
from events.streams import Category, stream_name
from services.api.timeline import OpenAlert, TimelineEntry
from services.notifier.tables import alerts
from services.notifier.timeline import alert_entries

EPISODE_ALERTS = (
    select(alerts.c.alert_id, alerts.c.role)
    .where(alerts.c.episode_id == bindparam("episode_id"))
    .order_by(alerts.c.raised_at)
)
OPEN = (
    select(alerts.c.alert_id, alerts.c.episode_id, alerts.c.role, alerts.c.raised_at)
    .where(alerts.c.matter == bindparam("matter"), alerts.c.status == "open")
    .order_by(alerts.c.raised_at)
)


async def alerts_timeline(
    store: SqlEventStore, episode_id: UUID
) -> list[TimelineEntry]:
    """Every alert about the episode, each from its own stream."""
    entries: list[TimelineEntry] = []
    for row in await store.select(EPISODE_ALERTS, {"episode_id": episode_id}):
        stream = await store.read_stream(stream_name(Category.alert, row.alert_id))
        entries += alert_entries(stream, row.role)
    return entries


async def open_alerts(store: SqlEventStore, matter: str) -> list[OpenAlert]:
    """The alerts about ``matter`` nobody has acknowledged, and still open."""
    return [
        OpenAlert(r.alert_id, r.episode_id, r.role, r.raised_at)
        for r in await store.select(OPEN, {"matter": matter})
    ]
