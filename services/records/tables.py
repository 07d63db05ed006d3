"""Read models shared by the services: episodes (with the roles alerted about each),
and the children's records."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    String,
    Table,
    Uuid,
)

from events.store.tables import UtcDateTime, metadata

episodes = Table(
    "episodes",
    metadata,
    Column("episode_id", Uuid, primary_key=True),
    Column("police_force", String(20), nullable=False),
    Column("police_reference", String(50), nullable=False),
    Column("child_key", String(260), nullable=False),
    Column("status", String(20), nullable=False),
    Column("withdrawal_reason", String(30), nullable=True),
    Column("episode_type", String(20), nullable=False),
    Column("police_risk_grade", String(20), nullable=False),
    Column("missing_since", UtcDateTime(), nullable=False),
    Column("reported_at", UtcDateTime(), nullable=False),
    Column("opened_position", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_episodes_force_status", "police_force", "status", "opened_position"),
    Index("ix_episodes_child", "child_key", "missing_since"),
)

alerted_roles = Table(
    "alerted_roles",
    metadata,
    Column("episode_id", Uuid, primary_key=True),
    Column("role", String(30), primary_key=True),
    Column("first_alerted_at", UtcDateTime(), nullable=False),
)
"""Kept from the notifier's ``AlertRaised``: intake shows who was alerted without
reading the notifier's own tables (services stay independent)."""

children = Table(
    "children",
    metadata,
    Column("la_child_id", String(40), primary_key=True),
    Column("name_key", String(200), nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("record", JSON, nullable=False),
    Column("looked_after", Boolean, nullable=False),
    Index("ix_children_name_dob", "name_key", "date_of_birth"),
)
