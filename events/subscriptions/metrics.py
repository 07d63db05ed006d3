"""How far behind the store's readers are: each subscription and the relay, read from
the store (the head, the reader's checkpoint, the first event after it; all by
primary key) and its parked messages (by their index).

A Kafka-fed subscription's checkpoints are offsets of the topics' partitions, not
store positions: it sets its own lag as it records them (``kafka_lag``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from prometheus_client import Gauge
from sqlalchemy import func, select

from events.envelope import utcnow
from events.metrics import Probe, owned
from events.store.sql import SqlEventStore
from events.store.tables import events, parked_messages

PARTITION = "store"
"""The partition of every store-fed reader's checkpoint (and the relay's)."""

SUBSCRIPTION_LAG_EVENTS = Gauge(
    "lantern_subscription_lag_events",
    "Events appended after the subscription's checkpoint",
    ["subscription"],
)
SUBSCRIPTION_LAG_SECONDS = Gauge(
    "lantern_subscription_lag_seconds",
    "Age of the oldest event the subscription has not passed; 0 when caught up",
    ["subscription"],
)
SUBSCRIPTION_PARKED = Gauge(
    "lantern_subscription_parked",
    "Messages the subscription parked, awaiting staff",
    ["subscription"],
)
RELAY_LAG_EVENTS = Gauge(
    "lantern_relay_lag_events",
    "Committed events the relay has not yet published",
    registry=None,
)
RELAY_LAG_SECONDS = Gauge(
    "lantern_relay_lag_seconds",
    "Age of the oldest committed event not yet published; 0 when caught up",
    registry=None,
)


async def lag(store: SqlEventStore, reader: str) -> tuple[int, float]:
    """Events after ``reader``'s checkpoint, and the age of the first of them."""
    checkpoint = await store.checkpoint(reader, PARTITION)
    head = await store.head()
    if head <= checkpoint:
        return 0, 0.0
    rows = await store.select(
        select(events.c.recorded_at)
        .where(events.c.position > checkpoint)
        .order_by(events.c.position)
        .limit(1)
    )
    first: datetime | None = rows[0][0] if rows else None
    age = (utcnow() - first).total_seconds() if first else 0.0
    return head - checkpoint, max(age, 0.0)


async def parked(store: SqlEventStore, subscriber: str) -> int:
    rows = await store.select(
        select(func.count()).where(
            parked_messages.c.subscriber == subscriber,
            parked_messages.c.status == "parked",
        )
    )
    return int(rows[0][0])


def subscription_probe(
    store: SqlEventStore, names: Sequence[str], *, store_fed: bool
) -> Probe:
    """The parked count of each of the process's subscriptions; and their lag,
    when the store feeds them."""

    async def subscriptions() -> None:
        for name in names:
            SUBSCRIPTION_PARKED.labels(name).set(await parked(store, name))
            if store_fed:
                behind, age = await lag(store, name)
                SUBSCRIPTION_LAG_EVENTS.labels(name).set(behind)
                SUBSCRIPTION_LAG_SECONDS.labels(name).set(age)

    return subscriptions


def kafka_lag(subscription: str, behind: int, oldest: datetime | None) -> None:
    """A Kafka-fed subscription's lag: records after its checkpoints up to the
    partitions' high watermarks, and the age of the oldest one it holds unhandled."""
    age = (utcnow() - oldest).total_seconds() if oldest and behind else 0.0
    SUBSCRIPTION_LAG_EVENTS.labels(subscription).set(behind)
    SUBSCRIPTION_LAG_SECONDS.labels(subscription).set(max(age, 0.0))


def relay_probe(store: SqlEventStore, name: str) -> Probe:
    async def relay() -> None:
        behind, age = await lag(store, name)
        RELAY_LAG_EVENTS.set(behind)
        RELAY_LAG_SECONDS.set(age)
        owned(RELAY_LAG_EVENTS, RELAY_LAG_SECONDS)  # once read: never a 0 not read

    return relay
