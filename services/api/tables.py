"""The web layer's own tables: the API clients, and the key that signs acknowledgement
links when no key is configured."""

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

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("secret", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)
"""Outside production only: a key made once and kept with the data it signs for."""
