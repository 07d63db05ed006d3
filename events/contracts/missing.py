"""Events of a missing episode, from the police report to its end.

Codes follow DOMAIN.md: episode type M/A (SSDA903 rule 1006) as ``missing``/``away``;
police risk grades of the College of Policing APP (2016/17), where the legacy
``absent`` (scrapped January 2017) is accepted and recorded as ``no_apparent_risk``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from events.personal import MaybePersonalText, PersonalDate, PersonalText
from events.registry import Event, Value


class EpisodeType(StrEnum):
    missing = "missing"  # SSDA903 M: whereabouts unknown
    away = "away"  # SSDA903 A: whereabouts known, not at placement, unauthorised


class RiskGrade(StrEnum):
    no_apparent_risk = "no_apparent_risk"
    low = "low"
    medium = "medium"
    high = "high"

    @property
    def rank(self) -> int:
        return list(RiskGrade).index(self)


LEGACY_GRADES = {
    "absent": RiskGrade.no_apparent_risk,  # scrapped January 2017
    "very_low": RiskGrade.no_apparent_risk,
}
"""Grades some police systems still send, and the APP grade each is recorded as."""


def grade_of(reported: str) -> RiskGrade:
    return LEGACY_GRADES.get(reported) or RiskGrade(reported)


class Gender(StrEnum):
    female = "female"
    male = "male"
    other = "other"
    not_known = "not_known"


class PlacementType(StrEnum):
    childrens_home = "childrens_home"
    foster_care = "foster_care"
    kinship_care = "kinship_care"
    semi_independent = "semi_independent"
    residential_school = "residential_school"
    secure_unit = "secure_unit"
    placed_with_parents = "placed_with_parents"
    other = "other"


class ReturnedTo(StrEnum):
    placement = "placement"
    family_or_friends = "family_or_friends"
    police_custody = "police_custody"
    hospital = "hospital"
    other = "other"


class WithdrawalReason(StrEnum):
    reported_in_error = "reported_in_error"
    cancelled = "cancelled"


class Child(Value):
    la_child_id: str | None = None
    given_name: PersonalText
    family_name: PersonalText
    date_of_birth: PersonalDate
    gender: Gender


class Placement(Value):
    placing_authority: str
    placement_type: PlacementType
    postcode: MaybePersonalText = None


class LastSeen(Value):
    description: MaybePersonalText = None
    postcode: MaybePersonalText = None


class ChildMatch(Value):
    """How the reported child matched the council's children's records."""

    status: Literal["matched", "ambiguous", "unmatched"]
    la_child_id: str | None = None
    candidates: int = 0


class MissingReported(Event):
    episode_id: UUID
    police_force: str
    police_reference: str
    reported_at: datetime
    missing_since: datetime
    episode_type: EpisodeType
    police_risk_grade: RiskGrade
    police_risk_grade_reported_as: str | None = None
    child: Child
    placement: Placement
    last_seen: LastSeen | None = None
    circumstances: MaybePersonalText = None
    reporting_officer: str | None = None
    match: ChildMatch


class PoliceRiskGradeChanged(Event):
    episode_id: UUID
    previous: RiskGrade
    grade: RiskGrade
    reported_as: str | None = None
    changed_at: datetime
    reason: MaybePersonalText = None


class ChildSighted(Event):
    episode_id: UUID
    seen_at: datetime
    postcode: MaybePersonalText = None
    description: MaybePersonalText = None


class InformationAdded(Event):
    episode_id: UUID
    received_at: datetime
    information: PersonalText


class ChildFound(Event):
    episode_id: UUID
    found_at: datetime
    found_location: MaybePersonalText = None
    returned_to: ReturnedTo
    safe_and_well_check: bool


class ReportWithdrawn(Event):
    episode_id: UUID
    withdrawn_at: datetime
    reason: WithdrawalReason
    note: MaybePersonalText = None


class EpisodeReclassified(Event):
    """Police or council staff found the child's whereabouts known (away, SSDA903 A)
    or not (missing, M) after all: who said so, and why. Triage assesses again."""

    episode_id: UUID
    previous: EpisodeType
    episode_type: EpisodeType
    reason: PersonalText
    by: str
    """The API client that reclassified it (``client:<name>``), as the actor."""
    role: Literal["police", "staff"]
    reclassified_at: datetime


class ReturnTimeCorrected(Event):
    """Council staff corrected, after the fact, when the child returned (the end of
    the episode, SSDA903 MIS_END): who, and why. The return interview's deadlines
    follow the corrected time."""

    episode_id: UUID
    previous: datetime
    found_at: datetime
    reason: PersonalText
    by: str
    """The API client that corrected it (``client:<name>``), as the actor."""
    role: Literal["police", "staff"]
    corrected_at: datetime
