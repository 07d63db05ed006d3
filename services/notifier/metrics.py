"""The notifier's metrics: messages by channel and outcome, how long after the police
report the channel accepted the alert, and, read from its read models on a timer,
the alerts open, unacknowledged and escalated and the oldest alert still unsent.

Outcomes: ``sent`` (the channel accepted it), ``failed`` (an attempt failed and is
tried again), ``parked`` (failed for good on that channel: the next channel or the
duty team, as failures.py says, and staff see it)."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import case, func, select

from events.envelope import utcnow
from events.metrics import Probe, owned
from events.store.sql import SqlEventStore
from services.notifier.tables import alerts, deliveries

MESSAGES = Counter(
    "lantern_messages",
    "Message attempts, by channel and outcome",
    ["channel", "outcome"],
)
LATENCY = Histogram(
    "lantern_message_latency_seconds",
    "From the police report's receipt to the channel accepting its alert",
    ["channel"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600),
)
ALERTS_OPEN = Gauge("lantern_alerts_open", "Alerts not closed", registry=None)
ALERTS_UNACKNOWLEDGED = Gauge(
    "lantern_alerts_unacknowledged",
    "Open alerts nobody has acknowledged",
    registry=None,
)
ALERTS_ESCALATED = Gauge(
    "lantern_alerts_escalated",
    "Unacknowledged alerts escalated at least once",
    registry=None,
)
PENDING_OLDEST = Gauge(
    "lantern_messages_pending_oldest_seconds",
    "Age of the oldest alert whose first message is not yet sent; 0 when none",
    registry=None,
)


def sent(channel: str, received_at: datetime | None, accepted_at: datetime) -> None:
    """An alert's message accepted; ``received_at``: its report's, when an alert."""
    MESSAGES.labels(channel, "sent").inc()
    if received_at is not None:
        LATENCY.labels(channel).observe(
            max((accepted_at - received_at).total_seconds(), 0.0)
        )


def failed(channel: str, *, for_good: bool) -> None:
    MESSAGES.labels(channel, "parked" if for_good else "failed").inc()


COUNTS = select(
    func.count(),
    func.count(case((alerts.c.status == "open", 1))),
    func.count(case(((alerts.c.status == "open") & (alerts.c.escalation_step > 0), 1))),
).where(alerts.c.status.in_(("open", "acknowledged")))
OLDEST_UNSENT = (
    select(func.min(alerts.c.raised_at))
    .select_from(deliveries.join(alerts, deliveries.c.alert_id == alerts.c.alert_id))
    .where(
        deliveries.c.status.in_(("pending", "attempting")),
        deliveries.c.kind == "alert",
    )
)


def probe(store: SqlEventStore) -> Probe:
    async def notifier() -> None:
        total, unacknowledged, escalated = (await store.select(COUNTS))[0]
        ALERTS_OPEN.set(total)
        ALERTS_UNACKNOWLEDGED.set(unacknowledged)
        ALERTS_ESCALATED.set(escalated)
        oldest: datetime | None = (await store.select(OLDEST_UNSENT))[0][0]
        age = (utcnow() - oldest).total_seconds() if oldest else 0.0
        PENDING_OLDEST.set(max(age, 0.0))
        owned(
            ALERTS_OPEN, ALERTS_UNACKNOWLEDGED, ALERTS_ESCALATED, PENDING_OLDEST
        )  # once read: never a 0 not read

    return notifier
