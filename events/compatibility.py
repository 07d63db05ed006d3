"""Whether a payload schema may replace the one published for the same type and
version, without breaking an integrator or Lantern's own reading of its history.

A version once published is for ever: its messages stay on the topics and in the
store. So under the same version a field may not disappear (stored payloads still
carry it, and ``extra="forbid"`` would refuse them), change type (either side of the
wire then misreads it), or become required (stored payloads lack it). A new optional
field, a new enum value, a new type or a new version is fine. Pure: schemas in,
complaints out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

Schema = Mapping[str, Any]
_KEY = re.compile(r"^(?P<type>.+)\.v(?P<version>\d+)$")
ADVICE = (
    "raise the contract's version with an upcaster"
    " (docs/events.md#type-names-and-schema-versions)"
)


def schema_key(type_name: str, version: int) -> str:
    """``MissingReported.v1``: how snapshots and the AsyncAPI document name a
    payload schema."""
    return f"{type_name}.v{version}"


def breaking_changes(
    published: Mapping[str, Schema], current: Mapping[str, Schema]
) -> list[str]:
    """Every way ``current`` breaks ``published``; both map ``Type.vN`` to the
    self-contained schema ``lantern events schema`` prints."""
    newest = _newest_versions(current)
    problems: list[str] = []
    for key, before in sorted(published.items()):
        type_name, version = _split(key)
        if type_name not in newest:
            problems.append(
                f"{type_name} v{version} is no longer registered: a type name is for"
                " ever, keep its class (and its upcasters) so history still reads"
            )
        elif version > newest[type_name]:
            problems.append(
                f"{type_name} v{version} was published but the class is at"
                f" v{newest[type_name]}: versions never go down"
            )
        elif key in current:
            problems.extend(
                f"{type_name} v{version}: {change}: {ADVICE}"
                for change in _changes(before, current[key])
            )
    return problems


def _newest_versions(schemas: Mapping[str, Schema]) -> dict[str, int]:
    newest: dict[str, int] = {}
    for key in schemas:
        type_name, version = _split(key)
        newest[type_name] = max(version, newest.get(type_name, 0))
    return newest


def _split(key: str) -> tuple[str, int]:
    match = _KEY.match(key)
    if match is None:
        raise ValueError(f"not a Type.vN schema key: {key!r}")
    return match["type"], int(match["version"])


def _changes(before: Schema, after: Schema) -> Iterator[str]:
    yield from _compare("", _Doc(before), before, _Doc(after), after)


class _Doc:
    """One self-contained schema, to resolve its ``#/$defs/...`` references."""

    def __init__(self, root: Schema) -> None:
        self.defs: Mapping[str, Schema] = root.get("$defs", {})

    def resolve(self, schema: Schema) -> Schema:
        seen = 0
        while "$ref" in schema and seen < 64:
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            schema = {
                **self.defs[name],
                **{k: v for k, v in schema.items() if k != "$ref"},
            }
            seen += 1
        return schema


def _compare(
    path: str, old_doc: _Doc, old: Schema, new_doc: _Doc, new: Schema
) -> Iterator[str]:
    old, new = old_doc.resolve(old), new_doc.resolve(new)
    old_kinds, new_kinds = _kinds(old_doc, old), _kinds(new_doc, new)
    if old_kinds != new_kinds:
        yield (
            f"field `{path or '(payload)'}` changed type from"
            f" {_show(old_kinds)} to {_show(new_kinds)}"
        )
        return
    removed_values = _values(old_doc, old) - _values(new_doc, new)
    if removed_values:
        yield f"field `{path}` no longer allows {', '.join(sorted(removed_values))}"
    old_object, new_object = (
        _branch(old_doc, old, "object"),
        _branch(new_doc, new, "object"),
    )
    if old_object is not None and new_object is not None:
        yield from _compare_objects(path, old_doc, old_object, new_doc, new_object)
    old_array, new_array = (
        _branch(old_doc, old, "array"),
        _branch(new_doc, new, "array"),
    )
    if old_array is not None and new_array is not None:
        yield from _compare(
            f"{path}[]",
            old_doc,
            old_array.get("items", {}),
            new_doc,
            new_array.get("items", {}),
        )


def _compare_objects(
    path: str, old_doc: _Doc, old: Schema, new_doc: _Doc, new: Schema
) -> Iterator[str]:
    old_fields: Mapping[str, Schema] = old.get("properties", {})
    new_fields: Mapping[str, Schema] = new.get("properties", {})
    old_required, new_required = (
        set(old.get("required", ())),
        set(new.get("required", ())),
    )
    prefix = f"{path}." if path else ""
    for name, schema in old_fields.items():
        if name not in new_fields:
            yield f"field `{prefix}{name}` was removed"
        else:
            yield from _compare(
                prefix + name, old_doc, schema, new_doc, new_fields[name]
            )
    for name in sorted(new_required - old_required):
        how = "became required" if name in old_fields else "was added as required"
        yield f"field `{prefix}{name}` {how}"


def _alternatives(doc: _Doc, schema: Schema) -> list[Schema]:
    """The branches of ``anyOf``/``oneOf`` (how pydantic writes ``X | None``)."""
    branches = schema.get("anyOf") or schema.get("oneOf")
    if not branches:
        return [schema]
    return [
        alt for branch in branches for alt in _alternatives(doc, doc.resolve(branch))
    ]


def _kinds(doc: _Doc, schema: Schema) -> frozenset[str]:
    kinds: set[str] = set()
    for alt in _alternatives(doc, schema):
        if "const" in alt or "enum" in alt:
            kinds.add("enum")
            continue
        types = alt.get("type", "any")
        for kind in [types] if isinstance(types, str) else types:
            fmt = alt.get("format")
            kinds.add(f"{kind}({fmt})" if fmt else str(kind))
    return frozenset(kinds)


def _values(doc: _Doc, schema: Schema) -> set[str]:
    values: set[str] = set()
    for alt in _alternatives(doc, schema):
        if "const" in alt:
            values.add(json.dumps(alt["const"]))
        values.update(json.dumps(v) for v in alt.get("enum", ()))
    return values


def _branch(doc: _Doc, schema: Schema, kind: str) -> Schema | None:
    for alt in _alternatives(doc, schema):
        if alt.get("type") == kind:
            return alt
    return None


def _show(kinds: frozenset[str]) -> str:
    return " | ".join(sorted(kinds)) or "anything"
