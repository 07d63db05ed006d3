"""Envelopes as Kafka messages in CloudEvents 1.0 binary mode (Kafka protocol binding).

Attributes travel as ``ce_``-prefixed headers and the payload is the JSON body, so an
integrator can read the data with any JSON tool and the metadata with any CloudEvents
SDK. Lantern's own envelope fields ride as extension attributes (lower-case, no
separators, as the spec requires).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from events import tracing
from events.envelope import Envelope, JsonText
from events.streams import category_of

SPEC_VERSION = "1.0"
SOURCE = "urn:lantern:event-store"
Headers = list[tuple[str, bytes]]
TRACE_HEADERS = (tracing.TRACEPARENT, tracing.TRACESTATE)

HEADERS: dict[str, str] = {
    "ce_specversion": "CloudEvents version, `1.0`",
    "ce_id": "The event id (UUID): the same on every copy of the event; dedupe on it",
    "ce_source": f"`{SOURCE}`",
    "ce_type": "The stable type name, e.g. `MissingReported`",
    "ce_subject": "The stream id, the same as the Kafka key",
    "ce_time": "When the event occurred (ISO 8601, UTC)",
    "ce_dataschema": "`urn:lantern:schema:<type>:v<N>`, the `$id` of the payload's"
    " JSON Schema",
    "content-type": "`application/json`",
    "ce_schemaversion": "The payload's schema version, e.g. `2`",
    "ce_streamversion": "The event's version within its stream: 1, 2, 3 ...",
    "ce_position": "The event's global position in Lantern's store",
    "ce_recordedtime": "When the store recorded it (ISO 8601, UTC)",
    "ce_correlationid": "Ties together everything that followed from one request",
    "ce_actor": "Who recorded it: `client:<name>`, a subscriber's name, `system`...",
    "ce_causationid": "The id of the event that caused this one; absent when none",
    "ce_traceparent": "W3C `traceparent` of the span that appended the event"
    " (CloudEvents distributed-tracing extension); absent when tracing was off",
    "ce_tracestate": "W3C `tracestate` to go with it; absent when empty",
}
"""What ``to_message`` writes as headers (all UTF-8 strings), for the AsyncAPI
document (events/asyncapi.py); a test keeps the two the same."""
OPTIONAL_HEADERS = frozenset({"ce_causationid", "ce_traceparent", "ce_tracestate"})


def schema_id(type_name: str, version: int) -> str:
    """The ``$id`` of the event's JSON Schema (``lantern events schema``)."""
    return f"urn:lantern:schema:{type_name}:v{version}"


def topic_for(stream_id: str, prefix: str) -> str:
    """One topic per stream category."""
    return f"{prefix}{category_of(stream_id)}"


def to_message(envelope: Envelope) -> tuple[bytes, bytes, Headers]:
    """(key, value, headers); the key is the stream id, so a stream keeps its order."""
    attributes = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": str(envelope.event_id),
        "ce_source": SOURCE,
        "ce_type": envelope.type,
        "ce_subject": envelope.stream_id,
        "ce_time": envelope.occurred_at.isoformat(),
        "ce_dataschema": schema_id(envelope.type, envelope.schema_version),
        "content-type": "application/json",
        "ce_schemaversion": str(envelope.schema_version),
        "ce_streamversion": str(envelope.stream_version),
        "ce_position": str(envelope.position),
        "ce_recordedtime": envelope.recorded_at.isoformat(),
        "ce_correlationid": str(envelope.correlation_id),
        "ce_actor": envelope.actor,
    }
    if envelope.causation_id is not None:
        attributes["ce_causationid"] = str(envelope.causation_id)
    if envelope.trace_context is not None:
        for name, value in tracing.carrier(envelope.trace_context).items():
            attributes[f"ce_{name}"] = value
    headers = [(k, v.encode()) for k, v in attributes.items()]
    data = envelope.data
    text = data.text if isinstance(data, JsonText) else json.dumps(data)
    body = text.encode()
    return envelope.stream_id.encode(), body, headers


def from_message(value: bytes, headers: Sequence[tuple[str, bytes]]) -> Envelope:
    """The body stays text until a handler reads the event (``JsonText``): one that
    is not JSON then fails in the handler and is parked like any poison message, to
    be redriven from the store's own copy, where decoding it here would pass it by."""
    attrs: dict[str, Any] = {k: v.decode() for k, v in headers}
    causation = attrs.get("ce_causationid")
    return Envelope(
        event_id=UUID(attrs["ce_id"]),
        stream_id=attrs["ce_subject"],
        stream_version=int(attrs["ce_streamversion"]),
        position=int(attrs["ce_position"]),
        type=attrs["ce_type"],
        schema_version=int(attrs["ce_schemaversion"]),
        data=JsonText(value.decode()),
        occurred_at=datetime.fromisoformat(attrs["ce_time"]),
        recorded_at=datetime.fromisoformat(attrs["ce_recordedtime"]),
        correlation_id=UUID(attrs["ce_correlationid"]),
        causation_id=UUID(causation) if causation else None,
        actor=attrs["ce_actor"],
        trace_context=tracing.stored(
            {name: attrs.get(f"ce_{name}", "") for name in TRACE_HEADERS}
        ),
    )
