"""Triage: the assessments read model, with each episode's next review time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("episode_id", sa.Uuid(), primary_key=True),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("unanswered", sa.JSON(), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_review_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_assessments_review", "assessments", ["next_review_at"])


def downgrade() -> None:
    op.drop_index("ix_assessments_review", table_name="assessments")
    op.drop_table("assessments")
