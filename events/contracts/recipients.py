"""The notifier's recipients directory: whom the council has set up to be told, in
each routing role, by `lantern recipients`, CSV import or the API."""

from __future__ import annotations

from enum import StrEnum

from events.registry import Event


class RecipientKind(StrEnum):
    duty_team = "duty_team"
    out_of_hours = "out_of_hours"
    mcet = "mcet"  # police Missing Children Exploitation Team
    la_contact = "la_contact"  # another council's contact for children it placed here
    team_manager = "team_manager"
    escalation = "escalation"


class RecipientRecorded(Event):
    """A recipient's whole entry, as of now (the latest one wins).

    ``key`` says which one of its kind: the placement district for ``mcet`` (none for
    the default MCET), the DfE LA code for ``la_contact``, the team's name for
    ``team_manager``, the step ("1", "2", ...) for ``escalation``; none otherwise.
    """

    recipient_id: str
    kind: RecipientKind
    key: str | None = None
    name: str
    email: str | None = None
    phone: str | None = None
    webhook_url: str | None = None


class RecipientRemoved(Event):
    recipient_id: str
