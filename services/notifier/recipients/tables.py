"""The `recipients` read model: one row per recipient in the directory."""

from sqlalchemy import Column, Index, String, Table

from events.store.tables import metadata

recipients = Table(
    "recipients",
    metadata,
    Column("recipient_id", String(60), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("key", String(200), nullable=True),
    Column("slot", String(230), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=True),
    Column("phone", String(20), nullable=True),
    Column("webhook_url", String(2000), nullable=True),
    # One recipient per place in routing, even when two writers race.
    Index("ix_recipients_slot", "slot", unique=True),
)
