"""Triage's read model: each open episode's latest level and when to look again."""

from sqlalchemy import JSON, Column, Index, String, Table, Uuid

from events.store.tables import UtcDateTime, metadata

assessments = Table(
    "assessments",
    metadata,
    Column("episode_id", Uuid, primary_key=True),
    Column("level", String(20), nullable=False),
    Column("unanswered", JSON, nullable=False),
    Column("assessed_at", UtcDateTime(), nullable=False),
    Column("next_review_at", UtcDateTime(), nullable=True),
    Index("ix_assessments_review", "next_review_at"),
)
