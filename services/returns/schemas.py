"""Request and response bodies of the returns service's routes (staff): return
interviews, Missing Family Group Conferences and a child's history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from events.contracts.missing import EpisodeType, RiskGrade
from events.contracts.returns import Concern, Deadline, OfferedBy
from services.api.schemas import Body
from services.api.schemas import Date as DateText

Code = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Status = Literal["due", "overdue", "superseded", "completed", "refused"]


class ReturnInterviewPut(Body):
    """The interview as staff now know it, whole: each part that changed is
    recorded as its own event; the same body again records nothing."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "offered": True,
                    "offered_at": "2026-11-23T10:00:00Z",
                    "offered_by": "independent_provider",
                    "accepted": True,
                    "completed_at": "2026-11-24T15:30:00Z",
                    "reasons": ["family_friends_contact"],
                    "concerns": [],
                    "notes": "Went to see her brother in Margate.",
                }
            ]
        }
    )

    offered: bool
    offered_at: AwareDatetime | None = None
    offered_by: OfferedBy | None = None
    accepted: bool | None = Field(None, description="null: not yet answered")
    completed_at: AwareDatetime | None = None
    reasons: list[Code] = Field(
        default_factory=list, max_length=20, description="docs/return-interviews.md"
    )
    concerns: list[Concern] = Field(default_factory=list, max_length=4)
    notes: Annotated[str, StringConstraints(max_length=4000)] | None = Field(
        None, description="Staff only"
    )


class ReturnInterviewRead(BaseModel):
    episode_id: UUID
    la_child_id: str | None
    returned_at: datetime
    due_date: date = Field(description="3rd working day after the return (London)")
    due_72h_at: datetime = Field(description="72 hours after the return")
    deadline: Deadline = Field(description="The deadline this council enforces")
    overdue_at: datetime
    status: Status
    superseded_by: UUID | None = None
    covers: list[UUID] = Field(description="Earlier episodes this interview covers")
    offered: bool
    offered_at: datetime | None = None
    offered_by: OfferedBy | None = None
    accepted: bool | None = None
    completed_at: datetime | None = None
    late: bool = Field(description="Completed after the enforced deadline")
    reasons: list[str]
    concerns: list[Concern]
    notes: str | None = None
    recorded: list[str] = Field(
        default_factory=list, description="Event types this request appended"
    )


class ReturnInterviewSummary(BaseModel):
    episode_id: UUID
    la_child_id: str | None
    returned_at: datetime
    due_date: date
    due_72h_at: datetime
    deadline: Deadline
    status: Status
    completed_at: datetime | None = None
    late: bool


class ReturnInterviewPage(BaseModel):
    items: list[ReturnInterviewSummary]
    next_cursor: str | None = Field(
        None, description="Pass as ?cursor= for the next page"
    )


class FamilyGroupConferenceCreate(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"held_on": "2026-11-02"}]}
    )

    held_on: DateText = Field(description="The day it was held; not in the future")


class FamilyGroupConferenceAccepted(BaseModel):
    la_child_id: str
    held_on: date
    recorded: list[str] = Field(description="Event types appended; [] for a repeat")


class HistoryInterview(BaseModel):
    """The return interview's status and outcome (notes are on the interview)."""

    status: Status
    due_date: date
    offered: bool
    accepted: bool | None
    completed_at: datetime | None
    late: bool = Field(description="Completed after the enforced deadline")
    reasons: list[str]
    concerns: list[Concern]


class HistoryEpisode(BaseModel):
    episode_id: UUID
    police_force: str
    police_reference: str
    status: Literal["open", "found", "withdrawn"]
    episode_type: EpisodeType = Field(description="As reclassified")
    missing_since: datetime
    found_at: datetime | None = Field(description="The return, as corrected")
    duration_hours: float | None = Field(
        description="From missing_since to the return, to 0.1 h; null while open"
    )
    police_risk_grade: RiskGrade
    risk_level: RiskGrade | None = Field(
        description="Lantern's latest assessment; null before triage ran"
    )
    return_interview: HistoryInterview | None = Field(
        description="null before the return"
    )


class ConferenceRead(BaseModel):
    held_on: date
    before_from: date = Field(description="The window before: from this day ...")
    after_until: date = Field(description="... the window after: until this day")
    episodes_before: int
    episodes_after: int
    before: list[UUID] = Field(description="Episodes in the 3 months before")
    after: list[UUID] = Field(
        description="Episodes in the 3 months after, from the day"
    )


class FrequentlyMissingRead(BaseModel):
    now: bool = Field(description="Frequently missing as of now")
    missing_episodes: int = Field(description="Missing (not away) in the window")
    threshold: int = Field(description="This many or more in the window")
    days: int = Field(description="The window: the last this many days")


class ChildHistory(BaseModel):
    la_child_id: str
    episodes: list[HistoryEpisode] = Field(
        description="Oldest first; reports withdrawn as made in error left out"
    )
    family_group_conferences: list[ConferenceRead]
    frequently_missing: FrequentlyMissingRead
