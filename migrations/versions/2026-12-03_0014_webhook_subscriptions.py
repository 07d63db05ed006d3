"""Webhook subscriptions of integrators, each with its checkpoint.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("subscription_id", sa.Uuid, primary_key=True),
        sa.Column("client_id", sa.Uuid, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("event_types", sa.JSON, nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("placing_authority", sa.String(3), nullable=True),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("paused_reason", sa.String(200), nullable=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_webhook_subscriptions_client", "webhook_subscriptions", ["client_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_subscriptions_client", "webhook_subscriptions")
    op.drop_table("webhook_subscriptions")
