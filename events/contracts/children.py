"""The council's children's records, fed by its case-management system."""

from __future__ import annotations

from datetime import date
from typing import Any

from events.registry import Event, Value


class Contact(Value):
    name: str
    email: str | None = None
    phone: str | None = None


class ChildRecorded(Event):
    """The directory's whole record of a child, as of now (last one wins).

    v2: ``placing_authority_child_id``, the placing authority's own id for a child
    placed here by another council, so its home authority is told its own id, never
    this council's."""

    schema_version = 2

    la_child_id: str
    given_name: str
    family_name: str
    date_of_birth: date
    looked_after: bool
    uasc: bool
    placing_authority: str
    placing_authority_child_id: str | None = None
    placement_district: str | None = None
    ola: bool
    social_worker: Contact | None = None
    team: Contact | None = None

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "placing_authority_child_id": None}
