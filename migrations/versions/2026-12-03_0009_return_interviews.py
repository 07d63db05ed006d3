"""Returns: the return interviews read model.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "return_interviews",
        sa.Column("episode_id", sa.Uuid(), primary_key=True),
        sa.Column("la_child_id", sa.String(40), nullable=True),
        sa.Column("child_key", sa.String(260), nullable=False),
        sa.Column("returned_at", when(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("due_72h_at", when(), nullable=False),
        sa.Column("deadline", sa.String(20), nullable=False),
        sa.Column("overdue_at", when(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("superseded_by", sa.Uuid(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("completed_at", when(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("opened_position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
    )
    op.create_index(
        "ix_return_interviews_status",
        "return_interviews",
        ["status", "opened_position"],
    )
    op.create_index(
        "ix_return_interviews_overdue", "return_interviews", ["status", "overdue_at"]
    )
    op.create_index(
        "ix_return_interviews_child", "return_interviews", ["child_key", "returned_at"]
    )


def downgrade() -> None:
    op.drop_table("return_interviews")
