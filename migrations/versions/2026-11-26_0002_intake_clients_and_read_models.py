"""Intake: API clients, and the episodes and children read models.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("client_id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("police_force", sa.String(20), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("rotated_at", Time, nullable=True),
        sa.Column("revoked_at", Time, nullable=True),
    )
    op.create_table(
        "episodes",
        sa.Column("episode_id", sa.Uuid(), primary_key=True),
        sa.Column("police_force", sa.String(20), nullable=False),
        sa.Column("police_reference", sa.String(50), nullable=False),
        sa.Column("child_key", sa.String(260), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("episode_type", sa.String(20), nullable=False),
        sa.Column("police_risk_grade", sa.String(20), nullable=False),
        sa.Column("missing_since", Time, nullable=False),
        sa.Column("reported_at", Time, nullable=False),
        sa.Column("opened_position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_index(
        "ix_episodes_force_status",
        "episodes",
        ["police_force", "status", "opened_position"],
    )
    op.create_index("ix_episodes_child", "episodes", ["child_key", "missing_since"])
    op.create_table(
        "children",
        sa.Column("la_child_id", sa.String(40), primary_key=True),
        sa.Column("name_key", sa.String(200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("looked_after", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_children_name_dob", "children", ["name_key", "date_of_birth"])


def downgrade() -> None:
    op.drop_index("ix_children_name_dob", table_name="children")
    op.drop_table("children")
    op.drop_index("ix_episodes_child", table_name="episodes")
    op.drop_index("ix_episodes_force_status", table_name="episodes")
    op.drop_table("episodes")
    op.drop_table("api_clients")
