"""Test events and builders. The backbone is tested with events of its own, so its
tests do not change when the domain's events do."""

from __future__ import annotations

import uuid
from typing import Any

from events.envelope import NewEvent
from events.registry import Event


class TestHappened(Event):
    __test__ = False
    n: int
    note: str = ""


class TestEchoed(Event):
    __test__ = False
    n: int


class TestRenamed(Event):
    """v2 renamed ``name`` to ``title``; v1 payloads are upcast on read."""

    __test__ = False
    schema_version = 2
    title: str

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {"title": data.pop("name")}


def a_stream(category: str = "test") -> str:
    return f"{category}-{uuid.uuid4()}"


def happened(n: int = 1, **overrides: Any) -> NewEvent:
    return NewEvent(event=TestHappened(n=n), **overrides)
