"""The reports' own read model: the council's children (with their periods of care),
each episode with its return interview, and the family group conferences, kept from
the events alone by ``ReportsProjector``, indexed for a period's report."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Index,
    String,
    Table,
    Uuid,
)

from events.store.tables import UtcDateTime, metadata

report_children = Table(
    "report_children",
    metadata,
    Column("la_child_id", String(40), primary_key=True),
    Column("date_of_birth", Date, nullable=False),
    Column("uasc", Boolean, nullable=False),
    Column("placing_authority", String(40), nullable=False),
    Index("ix_report_children_authority", "placing_authority", "la_child_id"),
)

report_care_periods = Table(
    "report_care_periods",
    metadata,
    Column("la_child_id", String(40), primary_key=True),
    Column("start_date", Date, primary_key=True),
    Column("end_date", Date, nullable=True),
)

report_episodes = Table(
    "report_episodes",
    metadata,
    Column("episode_id", Uuid, primary_key=True),
    Column("la_child_id", String(40), nullable=True),
    Column("episode_type", String(1), nullable=False),  # SSDA903 M or A
    Column("started_at", UtcDateTime(), nullable=False),
    Column("start_date", Date, nullable=False),  # London
    Column("ended_at", UtcDateTime(), nullable=True),
    Column("rhi_due_date", Date, nullable=True),
    Column("rhi_offered", Boolean, nullable=False),
    Column("rhi_accepted", Boolean, nullable=True),
    Column("rhi_completed_at", UtcDateTime(), nullable=True),
    Column("rhi_completed_date", Date, nullable=True),  # London
    Column("reasons", JSON, nullable=False),
    Index("ix_report_episodes_start", "start_date", "la_child_id"),
    Index("ix_report_episodes_child", "la_child_id", "start_date"),
)

report_conferences = Table(
    "report_conferences",
    metadata,
    Column("la_child_id", String(40), primary_key=True),
    Column("held_on", Date, primary_key=True),
    Index("ix_report_conferences_held", "held_on"),
)
