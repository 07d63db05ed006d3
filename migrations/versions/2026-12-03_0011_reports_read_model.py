"""Reports: the panel report's read model (children, care periods, episodes with
their return interviews, family group conferences). Filled by
``lantern projections rebuild``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_children",
        sa.Column("la_child_id", sa.String(40), primary_key=True),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("uasc", sa.Boolean(), nullable=False),
        sa.Column("placing_authority", sa.String(40), nullable=False),
    )
    op.create_index(
        "ix_report_children_authority",
        "report_children",
        ["placing_authority", "la_child_id"],
    )
    op.create_table(
        "report_care_periods",
        sa.Column("la_child_id", sa.String(40), primary_key=True),
        sa.Column("start_date", sa.Date(), primary_key=True),
        sa.Column("end_date", sa.Date(), nullable=True),
    )
    op.create_table(
        "report_episodes",
        sa.Column("episode_id", sa.Uuid(), primary_key=True),
        sa.Column("la_child_id", sa.String(40), nullable=True),
        sa.Column("episode_type", sa.String(1), nullable=False),
        sa.Column("started_at", when(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("ended_at", when(), nullable=True),
        sa.Column("rhi_due_date", sa.Date(), nullable=True),
        sa.Column("rhi_offered", sa.Boolean(), nullable=False),
        sa.Column("rhi_accepted", sa.Boolean(), nullable=True),
        sa.Column("rhi_completed_at", when(), nullable=True),
        sa.Column("rhi_completed_date", sa.Date(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
    )
    op.create_index(
        "ix_report_episodes_start", "report_episodes", ["start_date", "la_child_id"]
    )
    op.create_index(
        "ix_report_episodes_child", "report_episodes", ["la_child_id", "start_date"]
    )
    op.create_table(
        "report_conferences",
        sa.Column("la_child_id", sa.String(40), primary_key=True),
        sa.Column("held_on", sa.Date(), primary_key=True),
    )
    op.create_index("ix_report_conferences_held", "report_conferences", ["held_on"])


def downgrade() -> None:
    op.drop_table("report_conferences")
    op.drop_table("report_episodes")
    op.drop_table("report_care_periods")
    op.drop_table("report_children")
