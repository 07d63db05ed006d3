"""The keys that seal each child's and episode's personal fields (erasure).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subject_keys",
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("la_child_id", sa.String(100), nullable=True),
        sa.Column("key", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_index("ix_subject_keys_child", "subject_keys", ["la_child_id"])


def downgrade() -> None:
    op.drop_index("ix_subject_keys_child", "subject_keys")
    op.drop_table("subject_keys")
