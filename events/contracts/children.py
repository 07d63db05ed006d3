"""The council's children's records, fed by its case-management system."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from events.personal import PersonalDate, PersonalText
from events.registry import Event, Value


class Contact(Value):
    name: str
    email: str | None = None
    phone: str | None = None


class CarePeriod(Value):
    """A period of care: SSDA903 DECOM (start) to DEC (end; None while in care).
    A missing episode must start within one (903 rules 581/578, DOMAIN.md §9 rule
    10)."""

    start_date: date
    end_date: date | None = None


class ChildRecorded(Event):
    """The directory's whole record of a child, as of now (last one wins).

    v2: the child's periods of care, and ``placing_authority_child_id``, the placing
    authority's own id for a child placed here by another council, so its home
    authority is told its own id, never this council's. A v1 record said nothing of
    either, so it is read with none (no periods is not "never in care":
    ``looked_after`` still says that)."""

    schema_version = 2

    la_child_id: str
    given_name: PersonalText
    family_name: PersonalText
    date_of_birth: PersonalDate
    looked_after: bool
    uasc: bool
    placing_authority: str
    placing_authority_child_id: str | None = None
    placement_district: str | None = None
    ola: bool
    social_worker: Contact | None = None
    team: Contact | None = None
    care_periods: list[CarePeriod] = Field(default_factory=list)

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "care_periods": [], "placing_authority_child_id": None}


class FamilyGroupConferenceRecorded(Event):
    """A Missing Family Group Conference was held for the child (source document
    §7): the child's history shows the episodes in the three months either side.
    On the child's stream, ``child-<la_child_id>``."""

    la_child_id: str
    held_on: date
