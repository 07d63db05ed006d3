"""The body of `PUT /v1/recipients/{recipient_id}`, also each row of the CSV import.
Lengths are the `recipients` table's."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from events.contracts.recipients import RecipientKind
from services.api.schemas import Body, ShortText

Key = Annotated[str, StringConstraints(max_length=200)]
Email = Annotated[str, StringConstraints(max_length=254)]
Phone = Annotated[str, StringConstraints(max_length=20)]
Url = Annotated[str, StringConstraints(max_length=2000)]


class RecipientPut(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "mcet",
                    "key": "Maidstone",
                    "name": "Kent Police MCET West",
                    "email": "mcet.west@police.example",
                    "phone": "07700 900123",
                    "webhook_url": "https://mcet.police.example/lantern",
                }
            ]
        }
    )

    kind: RecipientKind
    key: Key | None = Field(
        None,
        description="mcet: the placement district (none: every other district);"
        " la_contact: the DfE LA code; team_manager: the team's name;"
        " escalation: the step, 1, 2, ...; none for duty_team and out_of_hours",
    )
    name: ShortText
    email: Email | None = None
    phone: Phone | None = Field(None, description="A UK mobile: 07… or +447…")
    webhook_url: Url | None = Field(
        None, description="https, to a public host (docs/channels.md)"
    )
