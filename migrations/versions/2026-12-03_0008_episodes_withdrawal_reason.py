"""Episodes: why a withdrawn report was withdrawn, since one withdrawn as made in error
was never an episode and a child's history leaves it out. Filled from the log.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = {
    "postgresql": """
        UPDATE episodes SET withdrawal_reason = e.data->>'reason' FROM events e
        WHERE e.type = 'ReportWithdrawn'
          AND e.stream_id = 'episode-' || episodes.episode_id::text""",
    "sqlite": """
        UPDATE episodes SET withdrawal_reason = (
            SELECT json_extract(e.data, '$.reason') FROM events e
            WHERE e.type = 'ReportWithdrawn'
              AND replace(json_extract(e.data, '$.episode_id'), '-', '')
                  = episodes.episode_id)
        WHERE status = 'withdrawn'""",
}


def upgrade() -> None:
    with op.batch_alter_table("episodes") as batch:
        batch.add_column(sa.Column("withdrawal_reason", sa.String(30), nullable=True))
    op.execute(BACKFILL[op.get_bind().dialect.name])


def downgrade() -> None:
    with op.batch_alter_table("episodes") as batch:
        batch.drop_column("withdrawal_reason")
