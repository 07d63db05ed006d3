"""Intake's own table: the API clients."""

from sqlalchemy import Column, String, Table, Uuid

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
