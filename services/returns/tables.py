"""The return interviews read model: each episode's interview, its deadlines and its
status, for the listing and as the overdue scheduler's timer (``overdue_at``)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    String,
    Table,
    Uuid,
)

from events.store.tables import UtcDateTime, metadata

return_interviews = Table(
    "return_interviews",
    metadata,
    Column("episode_id", Uuid, primary_key=True),
    Column("la_child_id", String(40), nullable=True),
    Column("child_key", String(260), nullable=False),
    Column("returned_at", UtcDateTime(), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("due_72h_at", UtcDateTime(), nullable=False),
    Column("deadline", String(20), nullable=False),
    Column("overdue_at", UtcDateTime(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("superseded_by", Uuid, nullable=True),
    Column("accepted", Boolean, nullable=True),
    Column("overdue", Boolean, nullable=False),
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("late", Boolean, nullable=False),
    Column("opened_position", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_return_interviews_status", "status", "opened_position"),
    Index("ix_return_interviews_overdue", "status", "overdue_at"),
    Index("ix_return_interviews_child", "child_key", "returned_at"),
)
