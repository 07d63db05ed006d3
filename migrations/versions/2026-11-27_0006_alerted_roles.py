"""Records: the roles alerted about each episode, for GET /v1/episodes/{id}.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerted_roles",
        sa.Column("episode_id", sa.Uuid(), primary_key=True),
        sa.Column("role", sa.String(30), primary_key=True),
        sa.Column("first_alerted_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Alerts raised before this revision: their roles, from the notifier's table.
    op.execute(
        "INSERT INTO alerted_roles (episode_id, role, first_alerted_at) "
        "SELECT episode_id, role, MIN(raised_at) FROM alerts GROUP BY episode_id, role"
    )


def downgrade() -> None:
    op.drop_table("alerted_roles")
