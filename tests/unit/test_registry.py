"""Event contracts: stable names, upcasting on read, ids derived from causes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from events.cloudevents import from_message, to_message, topic_for
from events.envelope import Envelope, EventData
from events.ids import derive_id
from events.registry import (
    Event,
    UnknownEventTypeError,
    decode,
    decode_json,
    event_types,
)
from tests.builders import TestHappened, TestRenamed

Decoder = Callable[[str, int, Any], Event]


@pytest.fixture(params=["object", "stored text"])
def decoder(request: pytest.FixtureRequest) -> Decoder:
    """Both ways a payload is decoded: from an object, or from the stored text."""
    if request.param == "object":
        return decode
    return lambda type_name, version, data: decode_json(
        type_name, version, json.dumps(data)
    )


class TestDecode:
    def test_current_version_round_trips(self, decoder: Decoder):
        decoded = decoder("TestHappened", 1, TestHappened(n=3).to_data())
        assert decoded == TestHappened(n=3)

    def test_older_version_is_upcast(self, decoder: Decoder):
        assert decoder("TestRenamed", 1, {"name": "kept"}) == TestRenamed(title="kept")

    def test_unknown_type_is_named(self, decoder: Decoder):
        with pytest.raises(UnknownEventTypeError, match="NoSuchEvent"):
            decoder("NoSuchEvent", 1, {})

    def test_newer_version_than_the_code_is_refused(self, decoder: Decoder):
        with pytest.raises(ValueError, match="newer than this code knows"):
            decoder("TestHappened", 2, {"n": 1})

    def test_unknown_fields_are_refused(self, decoder: Decoder):
        with pytest.raises(ValidationError):
            decoder("TestHappened", 1, {"n": 1, "surprise": True})

    def test_an_event_being_appended_is_read_back_as_itself(self):
        """What the store's projectors read of a commit: the payload as stored, and
        the event in hand rather than a second validation of it."""
        happened = TestHappened(n=3)
        data = EventData(happened)
        assert json.loads(json.dumps(data)) == happened.to_data()
        now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
        envelope = Envelope(
            event_id=uuid4(), stream_id="test-1", stream_version=1, position=1,
            type="TestHappened", schema_version=1, data=data, occurred_at=now,
            recorded_at=now, correlation_id=uuid4(), causation_id=None, actor="x",
        )  # fmt: skip
        assert envelope.event is happened

    def test_events_are_immutable(self):
        with pytest.raises(ValidationError):
            TestHappened(n=1).n = 2  # type: ignore[misc]


class TestNames:
    def test_type_name_is_stable_and_unique(self):
        assert TestHappened.type_name == "TestHappened"
        assert event_types()["TestHappened"] is TestHappened
        with pytest.raises(TypeError, match="already taken"):
            type(
                "Clash", (Event,), {"type_name": "TestHappened", "__annotations__": {}}
            )


class TestIds:
    def test_same_cause_same_id(self):
        cause = uuid4()
        assert derive_id("triage", 0, cause, 0) == derive_id("triage", 0, cause, 0)
        assert derive_id("triage", 0, cause, 0) != derive_id("triage", 0, cause, 1)
        assert derive_id("triage", 0, cause, 0) != derive_id("notifier", 0, cause, 0)


class TestCloudEvents:
    def test_envelope_survives_a_kafka_message(self):
        now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
        envelope = Envelope(
            event_id=uuid4(), stream_id="episode-1", stream_version=3, position=42,
            type="TestHappened", schema_version=1, data={"n": 1, "note": ""},
            occurred_at=now, recorded_at=now, correlation_id=uuid4(),
            causation_id=uuid4(), actor="intake",
        )  # fmt: skip
        key, value, headers = to_message(envelope)
        assert key == b"episode-1"
        assert from_message(value, headers) == envelope

    def test_topic_is_the_stream_category(self):
        assert topic_for("episode-0f3a-11", "lantern.") == "lantern.episode"
