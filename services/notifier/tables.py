"""The notifier's read models: alerts (for on-call staff, acks and escalation timers)
and deliveries (the messages still to send: the dispatcher's work queue)."""

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Text, Uuid

from events.store.tables import UtcDateTime, metadata

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", Uuid, primary_key=True),
    Column("episode_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False),  # of the alert's stream
    Column("role", String(30), nullable=False),
    Column("scope", String(30), nullable=False),
    Column("recipient_id", String(200), nullable=False),
    Column("level", String(20), nullable=False),
    Column("status", String(20), nullable=False),  # open | acknowledged | closed
    Column("raised_at", UtcDateTime(), nullable=False),
    Column("acknowledged_at", UtcDateTime(), nullable=True),
    Column("acknowledged_by", String(200), nullable=True),
    Column("escalation_step", Integer, nullable=False),
    Column("escalate_at", UtcDateTime(), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    # what the alert is about when not the episode's risk (AlertMatter.kind)
    Column("matter", String(30), nullable=True),
    Index("ix_alerts_episode", "episode_id"),
    Index("ix_alerts_status", "status", "raised_at"),
    Index("ix_alerts_escalate", "escalate_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("delivery_id", String(36), primary_key=True),
    Column("alert_id", Uuid, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("occasion", String(40), nullable=False),
    Column("contact", JSON, nullable=False),
    Column("channels", JSON, nullable=False),
    Column("channel_index", Integer, nullable=False),
    Column("attempt", Integer, nullable=False),
    # pending | attempting | sent | delivered | failed | cancelled
    Column("status", String(20), nullable=False),
    Column("due_at", UtcDateTime(), nullable=True),
    Column("provider_id", String(100), nullable=True),
    Column("last_error", String(100), nullable=True),
    Column("trace_context", Text, nullable=True),  # its cause's (events/tracing.py)
    Index("ix_deliveries_due", "status", "due_at"),
    Index("ix_deliveries_alert", "alert_id"),
    Index("ix_deliveries_provider", "provider_id"),
)
