"""Request and response bodies of the return interview routes (staff)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from events.contracts.returns import Concern, Deadline, OfferedBy
from services.api.schemas import Body

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
