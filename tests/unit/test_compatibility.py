"""The breaking-change guard's rules (events/compatibility.py), on small schemas
shaped as pydantic writes them."""

from __future__ import annotations

from typing import Any

import pytest

from events.compatibility import breaking_changes


def schema(
    properties: dict[str, Any], required: list[str], defs: dict | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": required,
    }
    if defs:
        body["$defs"] = defs
    return body


OPTIONAL_STR = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
NULLABLE_INT = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
FACTOR = schema({"code": {"type": "string"}, "weight": {"type": "integer"}}, ["code"])
BEFORE = {
    "Happened.v1": schema(
        {
            "n": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "note": OPTIONAL_STR,
            "grade": {"$ref": "#/$defs/Grade"},
            "factors": {"type": "array", "items": {"$ref": "#/$defs/Factor"}},
        },
        ["n", "at", "grade", "factors"],
        {"Grade": {"enum": ["low", "high"], "type": "string"}, "Factor": FACTOR},
    )
}


def changed(**edits: Any) -> dict[str, Any]:
    """BEFORE's Happened.v1 with properties replaced (None removes one)."""
    after = dict(BEFORE["Happened.v1"])
    properties = {**after["properties"], **edits.pop("properties", {})}
    after["properties"] = {k: v for k, v in properties.items() if v is not None}
    after.update(edits)
    return after


class TestBreakingChanges:
    def test_the_same_schema_passes(self):
        assert breaking_changes(BEFORE, BEFORE) == []

    @pytest.mark.parametrize(
        "after",
        [
            changed(properties={"extra": OPTIONAL_STR}),
            changed(required=["n", "at", "grade"]),  # required -> optional
            changed(
                properties={"grade": {"enum": ["low", "high", "medium"]}},
                **{"$defs": BEFORE["Happened.v1"]["$defs"]},
            ),
        ],
        ids=["optional field added", "field no longer required", "enum value added"],
    )
    def test_what_an_integrator_can_absorb_passes(self, after):
        assert breaking_changes(BEFORE, {"Happened.v1": after}) == []

    def test_new_types_and_versions_pass(self):
        newer = {**BEFORE, "Happened.v2": schema({}, []), "Other.v1": schema({}, [])}
        assert breaking_changes(BEFORE, newer) == []

    @pytest.mark.parametrize(
        ("after", "field", "what"),
        [
            (changed(properties={"note": None}), "note", "was removed"),
            (
                changed(properties={"n": {"type": "string"}}),
                "n",
                "changed type from integer to string",
            ),
            (
                changed(properties={"at": {"type": "string", "format": "date"}}),
                "at",
                "changed type from string(date-time) to string(date)",
            ),
            (
                changed(properties={"n": NULLABLE_INT}),
                "n",
                "changed type from integer to integer | null",
            ),
            (changed(required=["n", "at", "grade", "factors", "note"]), "note",
             "became required"),
            (
                changed(properties={"new": {"type": "string"}},
                        required=["n", "at", "grade", "factors", "new"]),
                "new",
                "was added as required",
            ),
            (
                changed(properties={"grade": {"enum": ["low"], "type": "string"}}),
                "grade",
                'no longer allows "high"',
            ),
        ],
        ids=["removed", "type", "format", "nullable", "required", "new required",
             "enum value removed"],
    )  # fmt: skip
    def test_a_breaking_change_names_type_version_and_field(self, after, field, what):
        problems = breaking_changes(BEFORE, {"Happened.v1": after})
        assert problems == [
            f"Happened v1: field `{field}` {what}: raise the contract's version"
            " with an upcaster (docs/events.md#type-names-and-schema-versions)"
        ]

    def test_nested_fields_are_compared_through_refs(self):
        factor = schema({"code": {"type": "string"}}, ["code"])
        after = {**BEFORE["Happened.v1"]}
        after["$defs"] = {**after["$defs"], "Factor": factor}
        [problem] = breaking_changes(BEFORE, {"Happened.v1": after})
        assert "field `factors[].weight` was removed" in problem

    def test_an_older_version_kept_in_the_snapshot_is_history_not_a_removal(self):
        assert breaking_changes(BEFORE, {"Happened.v2": schema({}, [])}) == []

    def test_a_type_that_disappears_fails(self):
        [problem] = breaking_changes(BEFORE, {"Other.v1": schema({}, [])})
        assert problem.startswith("Happened v1 is no longer registered")

    def test_a_version_that_goes_down_fails(self):
        published = {"Happened.v2": schema({}, [])}
        [problem] = breaking_changes(published, BEFORE)
        assert "Happened v2 was published but the class is at v1" in problem
