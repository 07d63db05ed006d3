"""Notifier: the alerts and deliveries read models.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.Uuid(), primary_key=True),
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("scope", sa.String(30), nullable=False),
        sa.Column("recipient_id", sa.String(200), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("raised_at", when(), nullable=False),
        sa.Column("acknowledged_at", when(), nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("escalation_step", sa.Integer(), nullable=False),
        sa.Column("escalate_at", when(), nullable=True),
        sa.Column("closed_at", when(), nullable=True),
    )
    op.create_index("ix_alerts_episode", "alerts", ["episode_id"])
    op.create_index("ix_alerts_status", "alerts", ["status", "raised_at"])
    op.create_index("ix_alerts_escalate", "alerts", ["escalate_at"])
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.String(36), primary_key=True),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("occasion", sa.String(40), nullable=False),
        sa.Column("contact", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("channel_index", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_at", when(), nullable=True),
        sa.Column("provider_id", sa.String(100), nullable=True),
        sa.Column("last_error", sa.String(100), nullable=True),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "due_at"])
    op.create_index("ix_deliveries_alert", "deliveries", ["alert_id"])
    op.create_index("ix_deliveries_provider", "deliveries", ["provider_id"])


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("alerts")
