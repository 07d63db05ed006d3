"""Schema types every service's API shares: strict bodies and bounded text."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Body(BaseModel):
    """A request body: an unknown field is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)
