"""Events of the return interview (return home interview, RHI) that follows each
episode: opened on the child's return with its deadlines, superseded when the child
goes missing again before it is due, offered, accepted or refused, completed, the
reasons the child gave, and overdue when the enforced deadline passed.

One stream per episode's interview (``interview-<episode_id>``). Deadlines:
DOMAIN.md §9 rules 12 (72 hours) and 13 (3 working days); superseding: rule 14.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from events.personal import MaybePersonalText
from events.registry import Event


class Deadline(StrEnum):
    """Which deadline the council enforces; both are always shown."""

    working_days = "3_working_days"  # the source document's policy (§5.1)
    hours_72 = "72_hours"  # DfE statutory guidance 2014


class OfferedBy(StrEnum):
    social_worker = "social_worker"
    independent_provider = "independent_provider"


class Concern(StrEnum):
    """Exploitation concerns the interview raised (CIN factors 11A, 24A, 12A, 13A:
    DOMAIN.md §9 rule 4)."""

    cse = "cse"
    cce = "cce"
    trafficking = "trafficking"
    gangs = "gangs"


class ReturnInterviewOpened(Event):
    episode_id: UUID
    la_child_id: str | None = None
    returned_at: datetime
    due_date: date
    due_72h_at: datetime
    deadline: Deadline
    overdue_at: datetime
    covers: list[UUID] = Field(
        default_factory=list,
        description="Earlier episodes whose interviews this one took over (rule 14)",
    )


class ReturnInterviewRescheduled(Event):
    """The return time was corrected (``ReturnTimeCorrected``): the deadlines again,
    from the corrected time, by the rule the interview opened with. An overdue
    notice recorded before stands for the old deadline only."""

    episode_id: UUID
    returned_at: datetime
    due_date: date
    due_72h_at: datetime
    overdue_at: datetime


class ReturnInterviewSuperseded(Event):
    """The child went missing again before the interview was due: the next
    episode's interview covers this one."""

    episode_id: UUID
    by_episode_id: UUID
    superseded_at: datetime


class ReturnInterviewOffered(Event):
    episode_id: UUID
    offered_at: datetime
    offered_by: OfferedBy


class ReturnInterviewAccepted(Event):
    episode_id: UUID
    recorded_at: datetime


class ReturnInterviewRefused(Event):
    episode_id: UUID
    recorded_at: datetime


class ReturnInterviewCompleted(Event):
    episode_id: UUID
    completed_at: datetime
    late: bool
    """After the enforced deadline: allowed, and counted late."""


class ReturnReasonsRecorded(Event):
    episode_id: UUID
    taxonomy_version: str
    reasons: list[str]
    concerns: list[Concern]
    recorded_at: datetime


class ReturnInterviewNotesRecorded(Event):
    """Staff notes: apart from the reasons, so a reader of reasons never gets them."""

    episode_id: UUID
    notes: MaybePersonalText
    recorded_at: datetime


class ReturnInterviewOverdue(Event):
    """The enforced deadline passed with the interview neither completed nor
    refused: the fact the child's social worker and team manager are told of."""

    episode_id: UUID
    la_child_id: str | None = None
    due_date: date
    due_72h_at: datetime
    deadline: Deadline
    overdue_at: datetime
