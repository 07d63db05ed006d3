"""A child's history, for staff: every episode with its return and return interview,
the Missing Family Group Conferences with the episodes either side of each, and
whether the child is frequently missing now.

Read from the shared episodes read model and the log: each episode's stream (the
return as corrected, triage's latest level) and interview stream, and the child's
stream (the conferences). A child has a handful of episodes; none of this is on a
hot path.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select

from events.calendar import LONDON
from events.contracts.children import FamilyGroupConferenceRecorded
from events.contracts.missing import EpisodeType, RiskGrade, WithdrawalReason
from events.contracts.triage import RiskAssessed, RiskReassessed
from events.envelope import Envelope
from events.store.sql import SqlEventStore
from events.streams import Category, stream_name
from services.records.frequency import FrequentlyMissing
from services.records.tables import episodes
from services.returns import conferences, interview
from services.returns.handlers import interview_stream, returned_at
from services.returns.schemas import (
    ChildHistory,
    ConferenceRead,
    FrequentlyMissingRead,
    HistoryEpisode,
    HistoryInterview,
)

EPISODES = (
    select(episodes)
    .where(
        episodes.c.child_key == bindparam("child_key"),
        # Never an episode (as triage's history has it): DOMAIN.md 3, 9.3.
        episodes.c.withdrawal_reason.is_(None)
        | (episodes.c.withdrawal_reason != WithdrawalReason.reported_in_error),
    )
    .order_by(episodes.c.missing_since, episodes.c.opened_position)
)


def conferences_in(child: Sequence[Envelope]) -> list[date]:
    """The days of the Missing Family Group Conferences on a child's stream."""
    return sorted(
        {
            e.event.held_on
            for e in child
            if isinstance(e.event, FamilyGroupConferenceRecorded)
        }
    )


async def child_history(
    store: SqlEventStore,
    la_child_id: str,
    *,
    now: datetime,
    frequently_missing: FrequentlyMissing,
) -> ChildHistory:
    # Episodes whose child intake matched to this record: a report matched by
    # name alone (ambiguous or unmatched) is not known to be this child.
    async with store.engine.connect() as conn:
        rows = (
            (await conn.execute(EPISODES, {"child_key": f"id:{la_child_id}"}))
            .mappings()
            .all()
        )
    listed = [await _episode(store, dict(row)) for row in rows]
    days = [(e.episode_id, e.missing_since.astimezone(LONDON).date()) for e in listed]
    missing = [e.missing_since for e in listed if e.episode_type is EpisodeType.missing]
    counted = frequently_missing.counted(missing, now)
    return ChildHistory(
        la_child_id=la_child_id,
        episodes=listed,
        family_group_conferences=[
            _conference(conferences.around(held_on, days))
            for held_on in conferences_in(
                await store.read_stream(stream_name(Category.child, la_child_id))
            )
        ],
        frequently_missing=FrequentlyMissingRead(
            now=frequently_missing.applies(counted),
            missing_episodes=counted,
            threshold=frequently_missing.episodes,
            days=frequently_missing.days,
        ),
    )


async def _episode(store: SqlEventStore, row: dict[str, Any]) -> HistoryEpisode:
    stream = await store.read_stream(stream_name(Category.episode, row["episode_id"]))
    found_at = returned_at(stream)
    hours = None
    if found_at is not None:
        hours = round((found_at - row["missing_since"]).total_seconds() / 3600, 1)
    return HistoryEpisode(
        episode_id=row["episode_id"],
        police_force=row["police_force"],
        police_reference=row["police_reference"],
        status=row["status"],
        episode_type=row["episode_type"],
        missing_since=row["missing_since"],
        found_at=found_at,
        duration_hours=hours,
        police_risk_grade=row["police_risk_grade"],
        risk_level=_latest_level(stream),
        return_interview=await _interview(store, row["episode_id"]),
    )


def _latest_level(stream: Sequence[Envelope]) -> RiskGrade | None:
    levels = [
        e.event.level
        for e in stream
        if isinstance(e.event, RiskAssessed | RiskReassessed)
    ]
    return levels[-1] if levels else None


async def _interview(store: SqlEventStore, episode_id: UUID) -> HistoryInterview | None:
    stream = await store.read_stream(interview_stream(episode_id))
    current = interview.fold([e.event for e in stream])
    if current is None:
        return None
    return HistoryInterview(
        status=current.status,
        due_date=current.opened.due_date,
        offered=current.offered_at is not None,
        accepted=current.accepted,
        completed_at=current.completed_at,
        late=interview.is_late(current),
        reasons=list(current.reasons),
        concerns=list(current.concerns),
    )


def _conference(held: conferences.Around) -> ConferenceRead:
    return ConferenceRead(
        held_on=held.held_on,
        before_from=held.before_from,
        after_until=held.after_until,
        episodes_before=len(held.before),
        episodes_after=len(held.after),
        before=list(held.before),
        after=list(held.after),
    )
