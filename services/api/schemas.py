"""Schema types every service's API shares, so that the rules for input are written
once: text any database can store, bounded and not blank; times and dates only as
ISO 8601 text; booleans only as booleans; numbers the database's integers can hold.

Request bodies are validated from the parsed JSON (pydantic's lax Python mode), which
would take a number for a time, "yes" for a boolean and a lone surrogate as text. The
types below turn that off where it would surprise.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

BIGINT_MAX = 2**63 - 1
"""The largest integer PostgreSQL's BIGINT and SQLite hold."""


def _storable(value: object) -> object:
    """PostgreSQL refuses NUL in text and JSONB, and a lone UTF-16 surrogate has no
    UTF-8 form at all: such text fails where it is stored, so it is refused here."""
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        raise PydanticCustomError("text_nul", "contains a NUL character")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "text_surrogate", "contains a lone UTF-16 surrogate: not Unicode text"
        ) from None
    return value


def _not_blank(value: str) -> str:
    if value.isspace():
        raise PydanticCustomError("text_blank", "is blank")
    return value


NOT_BLANK = Field(json_schema_extra={"pattern": r"\S"})
"""The same rule as ``_not_blank``, said in the document for clients and fuzzers."""
ShortText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_not_blank),
    NOT_BLANK,
]
"""Names, places, ids: 1 to 200 characters, not blank."""
LongText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=4000),
    AfterValidator(_not_blank),
    NOT_BLANK,
]
"""Circumstances, information, notes: 1 to 4,000 characters, not blank."""

_ISO_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_time(value: object) -> object:
    """Pydantic reads a number, or a string of digits, as a Unix time."""
    if isinstance(value, datetime) or (
        isinstance(value, str) and _ISO_TIME.match(value)
    ):
        return value
    raise PydanticCustomError(
        "time_format", "must be an ISO 8601 time with a zone, as text"
    )


def _iso_date(value: object) -> object:
    """Pydantic reads a number as a Unix time, and a time at midnight as a date."""
    if (isinstance(value, date) and not isinstance(value, datetime)) or (
        isinstance(value, str) and _ISO_DATE.fullmatch(value)
    ):
        return value
    raise PydanticCustomError("date_format", "must be an ISO 8601 date, YYYY-MM-DD")


Moment = Annotated[AwareDatetime, BeforeValidator(_iso_time)]
"""ISO 8601 text with a zone (``Z`` or ``+01:00``), never a number."""
Date = Annotated[date, BeforeValidator(_iso_date)]
"""ISO 8601 text, ``YYYY-MM-DD``."""
Flag = StrictBool
"""``true`` or ``false``; not "yes", 1 or "on"."""
CHILD_ID = r"^[A-Za-z0-9_]{1,40}$"
"""A child's id in the children's records (``/v1/children/{la_child_id}``)."""
Natural = Annotated[int, Field(ge=0, le=BIGINT_MAX)]
"""A count, offset or position in a query, within what the database's integer holds:
a larger one would overflow it in the query."""


class Body(BaseModel):
    """A request body: an unknown field is an error, not ignored, and no string field,
    whatever its other rules, holds text that cannot be stored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        return _storable(value)
