"""Notifier: the recipients directory, one row per recipient, one per place.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recipients",
        sa.Column("recipient_id", sa.String(60), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("slot", sa.String(230), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("webhook_url", sa.String(2000), nullable=True),
    )
    op.create_index("ix_recipients_slot", "recipients", ["slot"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_recipients_slot", table_name="recipients")
    op.drop_table("recipients")
