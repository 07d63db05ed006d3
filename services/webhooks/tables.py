"""Webhook subscriptions: who asked for what, where, and how far each has been
delivered (``position``, its checkpoint: the last event sent and answered 2xx, or
passed by)."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    String,
    Table,
    Text,
    Uuid,
)

from events.store.tables import UtcDateTime, metadata

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("subscription_id", Uuid, primary_key=True),
    Column("client_id", Uuid, nullable=False),
    Column("url", Text, nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("secret", String(200), nullable=False),
    Column("placing_authority", String(3), nullable=True),
    Column("paused", Boolean, nullable=False),
    Column("paused_reason", String(200), nullable=True),
    Column("position", BigInteger, nullable=False),
    Column("failing_since", UtcDateTime(), nullable=True),
    Column("last_error", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_webhook_subscriptions_client", "client_id"),
)
