"""The council's children's records, fed by its case-management system."""

from __future__ import annotations

from datetime import date

from events.registry import Event, Value


class Contact(Value):
    name: str
    email: str | None = None
    phone: str | None = None


class ChildRecorded(Event):
    """The directory's whole record of a child, as of now (last one wins)."""

    la_child_id: str
    given_name: str
    family_name: str
    date_of_birth: date
    looked_after: bool
    uasc: bool
    placing_authority: str
    placement_district: str | None = None
    ola: bool
    social_worker: Contact | None = None
    team: Contact | None = None
