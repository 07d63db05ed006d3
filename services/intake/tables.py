"""Intake's tables: API clients, and the read models its projectors keep."""

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

api_clients = Table(
    "api_clients",
    metadata,
    Column("client_id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("police_force", String(20), nullable=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("rotated_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

episodes = Table(
    "episodes",
    metadata,
    Column("episode_id", Uuid, primary_key=True),
    Column("police_force", String(20), nullable=False),
    Column("police_reference", String(50), nullable=False),
    Column("status", String(20), nullable=False),
    Column("episode_type", String(20), nullable=False),
    Column("police_risk_grade", String(20), nullable=False),
    Column("missing_since", UtcDateTime(), nullable=False),
    Column("reported_at", UtcDateTime(), nullable=False),
    Column("opened_position", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_episodes_force_status", "police_force", "status", "opened_position"),
)

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
