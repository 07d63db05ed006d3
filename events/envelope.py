"""The envelope: what the store knows about an event besides its payload.

Identity, order, provenance and time travel with every event, whatever carries it
(the store, a Kafka message, a webhook), so handlers never see the transport.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID, uuid4

from events.registry import Event, decode, decode_json


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended; the store gives it a version and a position."""

    event: Event
    event_id: UUID = field(default_factory=uuid4)
    correlation_id: UUID | None = None
    causation_id: UUID | None = None
    actor: str = "system"
    occurred_at: datetime = field(default_factory=utcnow)


class JsonText(Mapping[str, Any]):
    """A stored JSON object, decoded only when read: a subscription catching up
    passes most events by, and the relay forwards the text as it is."""

    __slots__ = ("_value", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._value: dict[str, Any] | None = None

    @property
    def undecoded(self) -> bool:
        return self._value is None

    def _decoded(self) -> dict[str, Any]:
        if self._value is None:
            self._value = json.loads(self.text)
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return f"JsonText({self.text!r})"


class EventData(dict[str, Any]):
    """The payload of an event in hand, as appended: reading ``Envelope.event``
    gives that event back instead of validating the payload into a new one (the
    store's projectors read every event a commit appends)."""

    __slots__ = ("event",)

    def __init__(self, event: Event) -> None:
        super().__init__(event.to_data())
        self.event = event


class Envelope(NamedTuple):
    """A recorded event. ``data`` is the payload as stored, at ``schema_version``.

    A named tuple, not a frozen dataclass: the relay builds one per stored event, and
    a tuple is built in one step where a frozen dataclass sets each field in turn.
    """

    event_id: UUID
    stream_id: str
    stream_version: int
    position: int
    type: str
    schema_version: int
    data: Mapping[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    correlation_id: UUID
    causation_id: UUID | None
    actor: str
    trace_context: str | None = None
    """The W3C trace context of the span that appended it (events/tracing.py);
    None when tracing was off."""

    @property
    def event(self) -> Event:
        """The payload as the current event class, upcast from older versions."""
        if isinstance(self.data, EventData):
            return self.data.event
        if isinstance(self.data, JsonText) and self.data.undecoded:
            return decode_json(self.type, self.schema_version, self.data.text)
        return decode(self.type, self.schema_version, self.data)
