"""The returns service's handlers: an interview opens on each return, a child
going missing again before it is due supersedes it (DOMAIN.md §9 rule 14), and a
corrected return time moves its deadlines.

Either fact may be handled first (different streams are handled concurrently), so
each handler also looks for the other: the return looks for a later episode of the
same child, the report for interviews of the child still due.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from uuid import UUID

from sqlalchemy import bindparam, select

from events.contracts.missing import (
    ChildFound,
    MissingReported,
    ReturnTimeCorrected,
)
from events.contracts.returns import (
    Deadline,
    ReturnInterviewOpened,
    ReturnInterviewRescheduled,
    ReturnInterviewSuperseded,
)
from events.envelope import Envelope, utcnow
from events.history import is_history
from events.store.sql import SqlEventStore
from events.streams import Category, stream_name
from events.subscriptions import Handler, Output, Subscriber
from services.records.episodes import child_key
from services.records.tables import episodes
from services.returns import interview, rules
from services.returns.tables import return_interviews

NAME = "returns"

LATER_EPISODE = (
    select(episodes.c.episode_id)
    .where(
        episodes.c.child_key == bindparam("child_key"),
        episodes.c.episode_id != bindparam("episode_id"),
        episodes.c.status != "withdrawn",
        episodes.c.missing_since >= bindparam("returned_at"),
        episodes.c.missing_since < bindparam("overdue_at"),
    )
    .order_by(episodes.c.missing_since)
    .limit(1)
)
COVERED = select(return_interviews.c.episode_id).where(
    return_interviews.c.superseded_by == bindparam("episode_id")
)
STILL_DUE = select(return_interviews.c.episode_id).where(
    return_interviews.c.child_key == bindparam("child_key"),
    return_interviews.c.status.in_(("due", "overdue")),
    return_interviews.c.episode_id != bindparam("episode_id"),
    return_interviews.c.returned_at <= bindparam("missing_since"),
    return_interviews.c.overdue_at > bindparam("missing_since"),
)


def interview_stream(episode_id: UUID) -> str:
    return stream_name(Category.interview, episode_id)


def returned_at(episode: Sequence[Envelope]) -> datetime | None:
    """The return, as last corrected, of an episode's stream; None before it."""
    found_at = None
    for envelope in episode:
        if isinstance(envelope.event, ChildFound | ReturnTimeCorrected):
            found_at = envelope.event.found_at
    return found_at


@dataclass(frozen=True)
class Returns:
    """The returns service's dependencies, bound once by the composition root."""

    store: SqlEventStore
    deadline: Deadline = Deadline.working_days
    now: Callable[[], datetime] = utcnow

    async def interview(
        self, episode_id: UUID
    ) -> tuple[interview.Interview | None, int]:
        envelopes = await self.store.read_stream(interview_stream(episode_id))
        return interview.fold([e.event for e in envelopes]), len(envelopes)

    async def report(self, episode_id: UUID) -> MissingReported | None:
        report, _ = await self.report_and_return(episode_id)
        return report

    async def report_and_return(
        self, episode_id: UUID
    ) -> tuple[MissingReported | None, datetime | None]:
        """The report, and the return as last corrected (None before it)."""
        envelopes = await self.store.read_stream(
            stream_name(Category.episode, episode_id)
        )
        first = envelopes[0].event if envelopes else None
        report = first if isinstance(first, MissingReported) else None
        return report, returned_at(envelopes)

    async def later_episode(
        self, report: MissingReported, returned_at: datetime, due: rules.Due
    ) -> UUID | None:
        rows = await self.store.select(
            LATER_EPISODE,
            {
                "child_key": child_key(report),
                "episode_id": report.episode_id,
                "returned_at": returned_at,
                "overdue_at": due.overdue_at,
            },
        )
        return rows[0][0] if rows else None

    def superseded(self, episode_id: UUID, by: UUID) -> Output:
        return Output(
            interview_stream(episode_id),
            ReturnInterviewSuperseded(
                episode_id=episode_id, by_episode_id=by, superseded_at=self.now()
            ),
        )


def subscriber(returns: Returns) -> Subscriber:
    async def open_interview(envelope: Envelope) -> Sequence[Output]:
        if is_history(envelope):
            return []  # the past: recorded by its import, not news
        found = cast(ChildFound, envelope.event)
        report, returned = await returns.report_and_return(found.episode_id)
        existing, _ = await returns.interview(found.episode_id)
        if report is None or returned is None or existing is not None:
            return []  # a redelivery
        # The return as corrected meanwhile, if it was: the correction's handler
        # may have run first, finding no interview to reschedule.
        due = rules.due(returned, returns.deadline)
        covered = await returns.store.select(COVERED, {"episode_id": found.episode_id})
        opened = ReturnInterviewOpened(
            episode_id=found.episode_id,
            la_child_id=report.match.la_child_id,
            returned_at=returned,
            due_date=due.due_date,
            due_72h_at=due.due_72h_at,
            deadline=due.deadline,
            overdue_at=due.overdue_at,
            covers=sorted(row[0] for row in covered),
        )
        outputs = [Output(interview_stream(found.episode_id), opened, 0)]
        later = await returns.later_episode(report, returned, due)
        if later is not None:
            outputs.append(returns.superseded(found.episode_id, later))
        return outputs

    async def supersede_earlier(envelope: Envelope) -> Sequence[Output]:
        if is_history(envelope):
            return []  # the past: recorded by its import, not news
        report = cast(MissingReported, envelope.event)
        rows = await returns.store.select(
            STILL_DUE,
            {
                "child_key": child_key(report),
                "episode_id": report.episode_id,
                "missing_since": report.missing_since,
            },
        )
        return [returns.superseded(row[0], report.episode_id) for row in rows]

    async def reschedule(envelope: Envelope) -> Sequence[Output]:
        corrected = cast(ReturnTimeCorrected, envelope.event)
        current, version = await returns.interview(corrected.episode_id)
        _, returned = await returns.report_and_return(corrected.episode_id)
        if current is None or returned is None:
            return []  # not opened yet: it opens from the corrected time
        if returned == current.opened.returned_at:
            return []  # a redelivery, or corrected back meanwhile
        due = rules.due(returned, current.opened.deadline)
        rescheduled = ReturnInterviewRescheduled(
            episode_id=corrected.episode_id,
            returned_at=returned,
            due_date=due.due_date,
            due_72h_at=due.due_72h_at,
            overdue_at=due.overdue_at,
        )
        stream = interview_stream(corrected.episode_id)
        return [Output(stream, rescheduled, version)]

    handlers: dict[str, list[Handler]] = {
        ChildFound.type_name: [open_interview],
        ReturnTimeCorrected.type_name: [reschedule],
        MissingReported.type_name: [supersede_earlier],
    }
    return Subscriber(NAME, handlers)
