"""Request and response bodies of the police-facing API (contract v1).

The parts of a report are request types of their own, not the event's value
objects: the event keeps every report ever recorded readable, while a new report
meets today's bounds (services/api/schemas.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from events.contracts.missing import (
    EpisodeType,
    Gender,
    PlacementType,
    ReturnedTo,
    RiskGrade,
    WithdrawalReason,
)
from services.api.schemas import Body, Date, Flag, LongText, Moment, ShortText

ForceCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,20}$")]
Reference = Annotated[
    str, StringConstraints(min_length=1, max_length=50, pattern=r"^\S+$")
]
ReportedGrade = Literal[
    "no_apparent_risk", "very_low", "low", "medium", "high", "absent"
]  # fmt: skip
"""APP grades; ``absent`` (pre-2017) and ``very_low`` mean no apparent risk."""

CHILD_EXAMPLE: dict[str, Any] = {
    "la_child_id": "C1234567",
    "given_name": "Sam",
    "family_name": "Taylor",
    "date_of_birth": "2011-05-14",
    "gender": "female",
}
REPORT_EXAMPLE: dict[str, Any] = {
    "police_force": "KENT",
    "police_reference": "KNT-24-000123",
    "reported_at": "2026-11-20T21:40:00Z",
    "missing_since": "2026-11-20T19:30:00Z",
    "episode_type": "missing",
    "police_risk_grade": "medium",
    "child": CHILD_EXAMPLE,
    "placement": {
        "placing_authority": "886",
        "placement_type": "childrens_home",
        "postcode": "ME14 1XX",
    },
    "last_seen": {"description": "Leaving the home on foot", "postcode": "ME14 1AA"},
    "circumstances": "Did not return from school; phone switched off.",
    "reporting_officer": "PC 1234",
}


class ChildDetails(Body):
    la_child_id: ShortText | None = None
    given_name: ShortText
    family_name: ShortText
    date_of_birth: Date
    gender: Gender


class PlacementDetails(Body):
    placing_authority: ShortText
    placement_type: PlacementType
    postcode: ShortText | None = None


class LastSeenDetails(Body):
    description: LongText | None = None
    postcode: ShortText | None = None


class MissingReportCreate(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [REPORT_EXAMPLE]})

    police_force: ForceCode
    police_reference: Reference
    reported_at: Moment
    missing_since: Moment
    episode_type: EpisodeType
    police_risk_grade: ReportedGrade
    child: ChildDetails
    placement: PlacementDetails
    last_seen: LastSeenDetails | None = None
    circumstances: LongText | None = None
    reporting_officer: ShortText | None = None


class Sighting(Body):
    seen_at: Moment
    postcode: ShortText | None = None
    description: LongText | None = None


class EpisodeUpdate(Body):
    """New information; each part present becomes its own event."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "received_at": "2026-11-20T23:05:00Z",
                    "police_risk_grade": "high",
                    "reason": "Seen getting into a car with unknown adults",
                    "sighting": {
                        "seen_at": "2026-11-20T22:50:00Z",
                        "postcode": "ME15 6AA",
                    },
                }
            ]
        }
    )

    received_at: Moment
    police_risk_grade: ReportedGrade | None = None
    reason: LongText | None = None
    sighting: Sighting | None = None
    information: LongText | None = None


class FoundReport(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "found_at": "2026-11-21T08:15:00Z",
                    "found_location": "Maidstone bus station",
                    "returned_to": "placement",
                    "safe_and_well_check": True,
                }
            ]
        }
    )

    found_at: Moment
    found_location: ShortText | None = None
    returned_to: ReturnedTo
    safe_and_well_check: Flag


class Withdrawal(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "reported_in_error", "note": "Child was at school"}]
        }
    )

    reason: WithdrawalReason
    note: LongText | None = None


class Reclassification(Body):
    """Missing (whereabouts unknown, SSDA903 M) or away (known, A), and why."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "episode_type": "away",
                    "reason": "Carer has spoken to her; she is at her aunt's",
                }
            ]
        }
    )

    episode_type: EpisodeType
    reason: LongText


class EpisodeCorrection(Body):
    """Council staff correct an episode after the fact: its type, the return time,
    or both, and why. Each change is its own event."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "found_at": "2026-11-21T07:40:00Z",
                    "reason": "The home's log shows she was back at 07:40",
                }
            ]
        }
    )

    episode_type: EpisodeType | None = None
    found_at: Moment | None = Field(None, description="When the child returned")
    reason: LongText


class EpisodeAccepted(BaseModel):
    episode_id: UUID
    status: str
    recorded: list[str] = Field(
        default_factory=list, description="Event types appended"
    )


class TimelineEntry(BaseModel):
    event: str
    at: datetime
    recorded_at: datetime


class RiskSummary(BaseModel):
    level: RiskGrade
    score: int
    factors: list[str] = Field(description="Codes of what raised the risk")
    actions: list[str]
    sources_answered: list[str]
    sources_missing: list[str]
    policy_version: str
    assessed_at: datetime


class AcknowledgementRead(BaseModel):
    role: str
    acknowledged_at: datetime


class EpisodeRead(BaseModel):
    episode_id: UUID
    police_force: str
    police_reference: str
    status: Literal["open", "found", "withdrawn"]
    episode_type: EpisodeType
    police_risk_grade: RiskGrade
    missing_since: datetime
    reported_at: datetime
    child_match: Literal["matched", "ambiguous", "unmatched"]
    timeline: list[TimelineEntry]
    risk_assessment: RiskSummary | None = Field(
        None, description="Lantern's risk assessment, once triage has run"
    )
    alerted_roles: list[str] = Field(
        default_factory=list, description="Roles alerted (never contact details)"
    )
    acknowledgements: list[AcknowledgementRead] = Field(
        default_factory=list,
        description="The episode's alerts acknowledged: by role and when, earliest"
        " first (never who by name or contact)",
    )
    found_at: datetime | None = Field(
        None, description="When the child returned, as corrected; null until found"
    )
    return_interview: dict[str, Any] | None = Field(
        None,
        description="Council staff only (the police never get this key): the "
        "return interview as `GET /v1/episodes/{episode_id}/return-interview` "
        "answers it; null until the child returns",
    )


class EpisodeSummary(BaseModel):
    episode_id: UUID
    police_reference: str
    status: str
    police_risk_grade: RiskGrade
    missing_since: datetime
    reported_at: datetime


class EpisodePage(BaseModel):
    items: list[EpisodeSummary]
    next_cursor: str | None = Field(
        None, description="Pass as ?cursor= for the next page"
    )


class ContactDetails(Body):
    name: ShortText
    email: ShortText | None = None
    phone: ShortText | None = None


class CarePeriodDetails(Body):
    start_date: Date
    end_date: Date | None = None


class ChildRecordPut(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "given_name": "Sam",
                    "family_name": "Taylor",
                    "date_of_birth": "2011-05-14",
                    "looked_after": True,
                    "uasc": False,
                    "placing_authority": "886",
                    "placement_district": "Maidstone",
                    "ola": False,
                    "social_worker": {
                        "name": "Alex Morgan",
                        "email": "a.morgan@example.gov.uk",
                    },
                    "team": {"name": "Children in Care West", "phone": "03000 000000"},
                    "care_periods": [
                        {"start_date": "2019-04-01", "end_date": "2020-03-31"},
                        {"start_date": "2021-06-01", "end_date": None},
                    ],
                }
            ]
        }
    )

    given_name: ShortText
    family_name: ShortText
    date_of_birth: Date
    looked_after: Flag
    uasc: Flag = Field(description="Unaccompanied asylum-seeking child")
    placing_authority: ShortText = Field(
        description="DfE LA code of the responsible authority"
    )
    placing_authority_child_id: ShortText | None = Field(
        None,
        description="The placing authority's own id for a child placed here by "
        "another council: its home authority is told this id",
    )
    placement_district: ShortText | None = None
    ola: Flag = Field(description="Placed here by another local authority")
    social_worker: ContactDetails | None = None
    team: ContactDetails | None = None
    care_periods: list[CarePeriodDetails] = Field(
        default_factory=list,
        max_length=100,
        description="Periods of care (SSDA903 DECOM/DEC); end_date null while in care",
    )
