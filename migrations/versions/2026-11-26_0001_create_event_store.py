"""Create the event store: events, checkpoints, parked messages.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Payload = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", Position, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("stream_version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("data", Payload, nullable=False),
        sa.Column("occurred_at", Time, nullable=False),
        sa.Column("recorded_at", Time, nullable=False),
        sa.Column("correlation_id", sa.Uuid(), nullable=False),
        sa.Column("causation_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.UniqueConstraint("event_id"),
        sa.UniqueConstraint(
            "stream_id", "stream_version", name="uq_events_stream_version"
        ),
    )
    op.create_table(
        "checkpoints",
        sa.Column("subscriber", sa.String(200), primary_key=True),
        sa.Column("partition", sa.String(200), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_table(
        "parked_messages",
        sa.Column("id", Position, primary_key=True, autoincrement=True),
        sa.Column("subscriber", sa.String(200), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("partition", sa.String(200), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("parked_at", Time, nullable=False),
        sa.Column("resolved_at", Time, nullable=True),
        sa.UniqueConstraint(
            "subscriber", "event_id", name="uq_parked_subscriber_event"
        ),
    )
    op.create_index("ix_parked_status", "parked_messages", ["subscriber", "status"])


def downgrade() -> None:
    op.drop_index("ix_parked_status", table_name="parked_messages")
    op.drop_table("parked_messages")
    op.drop_table("checkpoints")
    op.drop_table("events")
