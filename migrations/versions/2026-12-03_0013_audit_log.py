"""The audit trail: who read or changed children's personal data, when, from where.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("audit_id", Position, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("operation", sa.String(200), nullable=False),
        sa.Column("access", sa.String(10), nullable=False),
        sa.Column("la_child_id", sa.String(40), nullable=True),
        sa.Column("episode_id", sa.Uuid, nullable=True),
        sa.Column("detail", sa.String(500), nullable=True),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor", "at"])
    op.create_index("ix_audit_log_la_child_id", "audit_log", ["la_child_id", "at"])
    op.create_index("ix_audit_log_episode_id", "audit_log", ["episode_id", "at"])


def downgrade() -> None:
    op.drop_table("audit_log")
