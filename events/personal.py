"""Which fields of an event are a child's personal data, and whose they are: the
pure rules the store's encryption (events/store/keys.py) and erasure follow.

A contract marks a field ``Annotated[str, PERSONAL]``; the marker is pydantic
metadata that changes neither validation nor the JSON Schema, so integrators see
the same contract. ``personal_paths`` lists the marked fields of an event type, as
paths into its payload; ``subject_of`` names the key an event's personal fields
are sealed with; ``child_of`` names the council's child the event is about, so an
episode's key is linked to the child and erased with the child's.

Subject rule: an event of an episode (it has ``episode_id``) is sealed with the
episode's key, ``episode:<episode_id>``, whether or not the child is matched yet;
any other event naming a child (``la_child_id``) with the child's key,
``child:<la_child_id>``. An episode is linked to a child as soon as any of its
events names one (the match, the interview, the frequently-missing crossing), and
erasing the child erases every linked episode's key with the child's own.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

ERASED = "[erased]"
"""What a required text field reads as once its key is destroyed."""


@dataclass(frozen=True, slots=True)
class Personal:
    """Marks a field as the child's personal data (``Annotated[str, PERSONAL]``)."""


PERSONAL = Personal()

Path = tuple[str, ...]


@cache
def personal_paths(cls: type[BaseModel]) -> tuple[Path, ...]:
    """The payload paths of ``cls``'s personal fields, into nested values too."""
    paths: list[Path] = []
    for name, field in cls.model_fields.items():
        if any(isinstance(m, Personal) for m in field.metadata):
            paths.append((name,))
            continue
        for inner in _models(field.annotation):
            paths += [(name, *p) for p in personal_paths(inner)]
    return tuple(paths)


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The value classes a field holds: itself, or inside ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (Union, types.UnionType):
        return [m for a in get_args(annotation) for m in _models(a)]
    return []


@cache
def erased_values(cls: type[BaseModel]) -> dict[Path, Any]:
    """What each personal field reads as once erased, chosen so the model still
    validates: None where the field may be absent, ``ERASED`` for required text,
    and for a required date the first of its month (``generalise``)."""
    out: dict[Path, Any] = {}
    for path in personal_paths(cls):
        field = _field(cls, path)
        if not field.is_required() or _allows_none(field.annotation):
            out[path] = None
        elif field.annotation is date:
            out[path] = generalise
        else:
            out[path] = ERASED
    return out


def generalise(value: str) -> str:
    """A date of birth kept only to its month (``2011-05-14`` -> ``2011-05-01``):
    what stays of it after erasure, so ages and the figures counted by age hold."""
    return f"{value[:7]}-01"


def _field(cls: type[BaseModel], path: Path) -> Any:
    field = cls.model_fields[path[0]]
    if len(path) == 1:
        return field
    (inner,) = [m for m in _models(field.annotation) if path[1] in m.model_fields]
    return _field(inner, path[1:])


def _allows_none(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType) and type(
        None
    ) in get_args(annotation)


def subject_of(data: dict[str, Any]) -> str | None:
    """Whose key seals the event's personal fields (the rule in the module's
    docstring); None for an event with no subject (it has no personal fields)."""
    if episode := data.get("episode_id"):
        return f"episode:{episode}"
    if child := data.get("la_child_id"):
        return f"child:{child}"
    return None


def child_of(data: dict[str, Any]) -> str | None:
    """The council's child an event names: its own ``la_child_id``, the child's
    in the report, or the match intake made."""
    for holder in (data, data.get("child") or {}, data.get("match") or {}):
        if found := holder.get("la_child_id"):
            return str(found)
    return None


PersonalText = Annotated[str, PERSONAL]
PersonalDate = Annotated[date, PERSONAL]
MaybePersonalText = Annotated[str | None, PERSONAL]
