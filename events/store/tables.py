"""The store's tables as SQLAlchemy Core metadata; Alembic migrations target this."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware in and out; SQLite keeps no zone, so UTC is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Any
    ) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: Lantern stores UTC-aware times only")
        return value

    def process_result_value(
        self, value: datetime | None, dialect: Any
    ) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identity.
Position = BigInteger().with_variant(Integer(), "sqlite")
Payload = JSON().with_variant(JSONB(), "postgresql")

events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("stream_id", String(200), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", Payload, nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("correlation_id", Uuid, nullable=False),
    Column("causation_id", Uuid, nullable=True),
    Column("actor", String(200), nullable=False),
    Column("trace_context", Text, nullable=True),  # W3C traceparent[;tracestate]
    UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("subscriber", String(200), primary_key=True),
    Column("partition", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

parked_messages = Table(
    "parked_messages",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("subscriber", String(200), nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("partition", String(200), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("parked_at", UtcDateTime(), nullable=False),
    Column("resolved_at", UtcDateTime(), nullable=True),
    UniqueConstraint("subscriber", "event_id", name="uq_parked_subscriber_event"),
    Index("ix_parked_status", "subscriber", "status"),
)

subject_keys = Table(
    "subject_keys",
    metadata,
    Column("subject", String(200), primary_key=True),
    Column("la_child_id", String(100), nullable=True),
    Column("key", LargeBinary, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("erased_at", UtcDateTime(), nullable=True),
    Column("reason", Text, nullable=True),
    Index("ix_subject_keys_child", "la_child_id"),
)
"""The key each subject's personal fields are sealed with (events/store/keys.py):
``child:<la_child_id>`` or ``episode:<episode_id>``, the episode's linked to the
child once known. Erasure sets ``key`` to NULL, for ever."""
