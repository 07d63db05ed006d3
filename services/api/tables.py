"""The web layer's own tables: the API clients, the key that signs acknowledgement
links when no key is configured, the staff who sign in to the pages, and the audit
trail of who saw what (services/api/audit.py)."""

from sqlalchemy import Column, Index, Integer, String, Table, Uuid

from events.store.tables import Position, UtcDateTime, metadata

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

people = Table(
    "people",
    metadata,
    Column("person_id", Uuid, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("roles", String(100), nullable=False),
    Column("oidc_subject", String(255), nullable=True, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("disabled_at", UtcDateTime(), nullable=True),
)
"""Staff who sign in to the web pages: local accounts, and those the council's
identity provider vouches for (their roles refreshed at each sign-in)."""

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("person_id", Uuid, nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime(), nullable=True),
)

sign_in_links = Table(
    "sign_in_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("person_id", Uuid, nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
)
"""One-time sign-in links for local accounts (no identity provider)."""


audit_log = Table(
    "audit_log",
    metadata,
    Column("audit_id", Position, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("operation", String(200), nullable=False),
    Column("access", String(10), nullable=False),
    Column("la_child_id", String(40), nullable=True),
    Column("episode_id", Uuid, nullable=True),
    Column("detail", String(500), nullable=True),
    Column("source", String(255), nullable=False),
    Column("status", Integer, nullable=False),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_actor", "actor", "at"),
    Index("ix_audit_log_la_child_id", "la_child_id", "at"),
    Index("ix_audit_log_episode_id", "episode_id", "at"),
)
"""Who read or changed what, when, from where, with what outcome: ids only, never
a name or a body. Kept as long as the records (docs/data-protection.md)."""
