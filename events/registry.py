"""Event classes by stable type name, with upcasting of older schema versions.

An event's ``type`` is a stable wire name chosen once (never a Python import path),
so integrators replaying history never see a fact renamed by a refactor. A class that
changes shape bumps ``schema_version`` and gains ``upcast_v1_v2``-style static methods
that turn the stored older dict into the newer one on read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

_TYPES: dict[str, type[Event]] = {}


class UnknownEventTypeError(LookupError):
    pass


class Value(BaseModel):
    """Base of the value objects inside event payloads: immutable, strict."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Event(BaseModel):
    """Base of every event payload: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type_name: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("type_name", cls.__name__)
        if name in _TYPES and _TYPES[name].__qualname__ != cls.__qualname__:
            raise TypeError(f"event type name {name!r} is already taken")
        cls.type_name = name
        _TYPES[name] = cls

    def to_data(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def event_class(type_name: str) -> type[Event]:
    try:
        return _TYPES[type_name]
    except KeyError:
        raise UnknownEventTypeError(type_name) from None


def event_types() -> dict[str, type[Event]]:
    return dict(sorted(_TYPES.items()))


def upcast(cls: type[Event], version: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """Apply ``upcast_vN_vN+1`` in order until the data is at the class's version."""
    current = dict(data)
    while version < cls.schema_version:
        step = getattr(cls, f"upcast_v{version}_v{version + 1}")
        current = step(current)
        version += 1
    return current


def decode(type_name: str, version: int, data: Mapping[str, Any]) -> Event:
    cls = event_class(type_name)
    if version > cls.schema_version:
        raise ValueError(
            f"{type_name} v{version} is newer than this code knows"
            f" (v{cls.schema_version})"
        )
    return cls.model_validate(upcast(cls, version, data))


def decode_json(type_name: str, version: int, text: str) -> Event:
    """``decode`` of the stored text: at the current version pydantic parses it
    itself, faster than ``json.loads`` and a validation of the result."""
    cls = event_class(type_name)
    if version == cls.schema_version:
        return cls.model_validate_json(text)
    return decode(type_name, version, json.loads(text))
