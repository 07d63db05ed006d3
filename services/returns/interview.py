"""The return interview as recorded, pure: its state folded from its events, what
staff may record (and what they may not), and the events a record makes.

A record (the body of ``PUT /v1/episodes/{id}/return-interview``) is the whole state
as staff now know it; each part that differs from what is recorded becomes its own
event, so the same record again makes none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from events.contracts.returns import (
    Concern,
    OfferedBy,
    ReturnInterviewAccepted,
    ReturnInterviewCompleted,
    ReturnInterviewNotesRecorded,
    ReturnInterviewOffered,
    ReturnInterviewOpened,
    ReturnInterviewOverdue,
    ReturnInterviewRefused,
    ReturnInterviewRescheduled,
    ReturnInterviewSuperseded,
    ReturnReasonsRecorded,
)
from events.registry import Event
from services.returns import reasons as taxonomy

Problem = tuple[str, str]
CLOCK_SKEW = timedelta(minutes=5)


def status_of(
    *,
    superseded_by: UUID | None,
    accepted: bool | None,
    overdue: bool,
    completed_at: datetime | None,
) -> str:
    """What staff see first: done (completed, refused), then why it is not needed
    (superseded), then whether it is late (overdue) or still due."""
    if completed_at is not None:
        return "completed"
    if accepted is False:
        return "refused"
    if superseded_by is not None:
        return "superseded"
    return "overdue" if overdue else "due"


@dataclass(frozen=True)
class Interview:
    opened: ReturnInterviewOpened
    """As opened, with the deadlines of the latest reschedule."""
    version: int = 1
    superseded_by: UUID | None = None
    overdue: bool = False
    offered_at: datetime | None = None
    offered_by: OfferedBy | None = None
    accepted: bool | None = None
    completed_at: datetime | None = None
    reasons: tuple[str, ...] = ()
    concerns: tuple[Concern, ...] = ()
    notes: str | None = None

    @property
    def status(self) -> str:
        return status_of(
            superseded_by=self.superseded_by,
            accepted=self.accepted,
            overdue=self.overdue,
            completed_at=self.completed_at,
        )


def fold(events: Sequence[Event]) -> Interview | None:
    interview: Interview | None = None
    for event in events:
        if isinstance(event, ReturnInterviewOpened):
            interview = Interview(event)
            continue
        if interview is None:
            continue
        interview = replace(_applied(interview, event), version=interview.version + 1)
    return interview


def _applied(i: Interview, event: Event) -> Interview:
    if isinstance(event, ReturnInterviewSuperseded):
        return replace(i, superseded_by=event.by_episode_id)
    if isinstance(event, ReturnInterviewOverdue):
        return replace(i, overdue=True)
    if isinstance(event, ReturnInterviewRescheduled):
        return replace(i, opened=rescheduled(i.opened, event), overdue=False)
    if isinstance(event, ReturnInterviewOffered):
        return replace(i, offered_at=event.offered_at, offered_by=event.offered_by)
    if isinstance(event, ReturnInterviewAccepted):
        return replace(i, accepted=True)
    if isinstance(event, ReturnInterviewRefused):
        return replace(i, accepted=False)
    if isinstance(event, ReturnInterviewCompleted):
        return replace(i, completed_at=event.completed_at)
    if isinstance(event, ReturnReasonsRecorded):
        return replace(i, reasons=tuple(event.reasons), concerns=tuple(event.concerns))
    if isinstance(event, ReturnInterviewNotesRecorded):
        return replace(i, notes=event.notes)
    return i


def is_late(i: Interview) -> bool:
    """Completed after the enforced deadline (as rescheduled): allowed, and counted
    late (source document §5.2)."""
    return i.completed_at is not None and i.completed_at >= i.opened.overdue_at


def rescheduled(
    opened: ReturnInterviewOpened, event: ReturnInterviewRescheduled
) -> ReturnInterviewOpened:
    """The deadlines move with a corrected return; an overdue notice recorded for
    the old one no longer stands (the scheduler records one again if the new one
    has passed too)."""
    return opened.model_copy(
        update={
            "returned_at": event.returned_at,
            "due_date": event.due_date,
            "due_72h_at": event.due_72h_at,
            "overdue_at": event.overdue_at,
        }
    )


@dataclass(frozen=True)
class Record:
    """What staff record, whole."""

    offered: bool
    offered_at: datetime | None = None
    offered_by: OfferedBy | None = None
    accepted: bool | None = None
    completed_at: datetime | None = None
    reasons: tuple[str, ...] = ()
    concerns: tuple[Concern, ...] = ()
    notes: str | None = None


def _when(
    field: str, at: datetime | None, i: Interview, now: datetime
) -> list[Problem]:
    if at is None:
        return []
    if at < i.opened.returned_at:
        return [(field, "is before the child's return")]
    if at > now + CLOCK_SKEW:
        return [(field, "is in the future")]
    return []


def problems(record: Record, i: Interview, now: datetime) -> list[Problem]:
    """422s: what no interview could be, each naming its field."""
    found: list[Problem] = []
    if record.offered:
        found += [
            (name, "is required when offered is true")
            for name, value in (
                ("offered_at", record.offered_at),
                ("offered_by", record.offered_by),
            )
            if value is None
        ]
    elif record.offered_at or record.offered_by:
        found.append(("offered", "is false, but offered_at or offered_by is given"))
    if record.accepted is not None and not record.offered:
        found.append(("accepted", "needs offered: a child accepts an offer"))
    if record.completed_at is not None and record.accepted is not True:
        found.append(("completed_at", "needs accepted: true"))
    found += _when("offered_at", record.offered_at, i, now)
    found += _when("completed_at", record.completed_at, i, now)
    offered_at, completed_at = record.offered_at, record.completed_at
    if offered_at and completed_at and completed_at < offered_at:
        found.append(("completed_at", "is before offered_at"))
    found += [
        (f"reasons[{n}]", f"is not a reason code of taxonomy v{taxonomy.VERSION}")
        for n in taxonomy.unknown_reasons(list(record.reasons))
    ]
    return found


def conflicts(record: Record, i: Interview) -> list[Problem]:
    """409s: a record that would take back a fact already recorded."""
    found: list[Problem] = []
    if i.offered_at is not None and not record.offered:
        found.append(("offered", "an offer is recorded; it cannot be taken back"))
    if i.accepted is not None and record.accepted is None:
        found.append(("accepted", "the child's answer is recorded"))
    if i.completed_at is not None and record.completed_at is None:
        found.append(("completed_at", "the interview is recorded as completed"))
    return found


def changes(record: Record, i: Interview, now: datetime) -> list[Event]:
    """One event per part that differs from what is recorded; none for a repeat."""
    eid = i.opened.episode_id
    made: list[Event] = []
    offer = (record.offered_at, record.offered_by)
    if (
        record.offered_at
        and record.offered_by
        and offer != (i.offered_at, i.offered_by)
    ):
        made.append(
            ReturnInterviewOffered(
                episode_id=eid,
                offered_at=record.offered_at,
                offered_by=record.offered_by,
            )
        )
    if record.accepted is not None and record.accepted != i.accepted:
        kind = ReturnInterviewAccepted if record.accepted else ReturnInterviewRefused
        made.append(kind(episode_id=eid, recorded_at=now))
    if record.completed_at and record.completed_at != i.completed_at:
        made.append(
            ReturnInterviewCompleted(
                episode_id=eid,
                completed_at=record.completed_at,
                # Allowed after the deadline, and counted late (source doc §5.2).
                late=record.completed_at >= i.opened.overdue_at,
            )
        )
    given = (tuple(sorted(set(record.reasons))), tuple(sorted(set(record.concerns))))
    if given != (tuple(sorted(i.reasons)), tuple(sorted(i.concerns))):
        made.append(
            ReturnReasonsRecorded(
                episode_id=eid,
                taxonomy_version=taxonomy.VERSION,
                reasons=list(given[0]),
                concerns=list(given[1]),
                recorded_at=now,
            )
        )
    if record.notes != i.notes:
        made.append(
            ReturnInterviewNotesRecorded(
                episode_id=eid, notes=record.notes, recorded_at=now
            )
        )
    return made
