"""Trace context in the log: taken from the span in hand as events are appended,
read back by every path, carried in Kafka headers and on into a subscriber's
outputs; with tracing off, none, and no exporter."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from uuid import uuid4

from opentelemetry import trace
from opentelemetry.trace import (
    NonRecordingSpan,
    ProxyTracerProvider,
    SpanContext,
    TraceFlags,
)

from events.cloudevents import from_message, to_message
from events.envelope import Envelope
from events.settings import CoreSettings
from events.store.sql import SqlEventStore
from events.subscriptions.store import StoreSubscription
from services.api.tracing import tracing_on
from services.tracing import traces
from tests.builders import TestEchoed, a_stream, happened
from tests.echo import echo_subscriber
from tests.waiting import eventually

TRACE_ID, SPAN_ID = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{SPAN_ID}-01"


@contextmanager
def a_span_in_hand() -> Iterator[None]:
    """A sampled span of a caller's, as a tracer provider would have it current."""
    context = SpanContext(
        int(TRACE_ID, 16), int(SPAN_ID, 16), is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )  # fmt: skip
    with trace.use_span(NonRecordingSpan(context)):
        yield


async def _stored(store: SqlEventStore, stream: str) -> list[Envelope]:
    """The stream's events by both read paths: by stream, and the log's pages."""
    by_stream = await store.read_stream(stream)
    in_log = [e for e in await store.read_all(limit=100_000) if e.stream_id == stream]
    return by_stream + in_log


async def test_tracing_off_appends_without_trace_context_and_exports_nothing(
    store: SqlEventStore,
):
    with traces(CoreSettings(otel_exporter="none"), "test"):
        assert isinstance(trace.get_tracer_provider(), ProxyTracerProvider)
        assert not tracing_on()  # no server spans, no exporter
        stream = a_stream()
        await store.append(stream, [happened(1)], expected_version=0)

    stored = await _stored(store, stream)
    assert [e.trace_context for e in stored] == [None, None]
    _, _, headers = to_message(stored[0])
    assert not {name for name, _ in headers} & {"ce_traceparent", "ce_tracestate"}


async def test_the_appending_span_is_stored_with_the_event(store: SqlEventStore):
    stream = a_stream()
    with a_span_in_hand():
        await store.append(stream, [happened(1), happened(2)], expected_version=0)
    await store.append(stream, [happened(3)], expected_version=2)  # no span: none

    stored = await _stored(store, stream)
    assert [e.trace_context for e in stored] == [TRACEPARENT, TRACEPARENT, None] * 2


def test_kafka_headers_carry_the_trace_context_both_ways():
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    envelope = Envelope(
        event_id=uuid4(), stream_id="episode-1", stream_version=1, position=1,
        type="MissingReported", schema_version=1, data={}, occurred_at=now,
        recorded_at=now, correlation_id=uuid4(), causation_id=None, actor="intake",
        trace_context=f"{TRACEPARENT};lantern=a;b",
    )  # fmt: skip

    _, value, headers = to_message(envelope)

    assert dict(headers)["ce_traceparent"] == TRACEPARENT.encode()
    assert dict(headers)["ce_tracestate"] == b"lantern=a;b"
    assert from_message(value, headers).trace_context == envelope.trace_context


async def test_a_subscribers_outputs_carry_on_the_trace_of_their_cause(
    store: SqlEventStore,
):
    traced, untraced = a_stream(), a_stream()
    with a_span_in_hand():
        await store.append(traced, [happened(1)], expected_version=0)
    await store.append(untraced, [happened(2)], expected_version=0)
    subscription = StoreSubscription(store, echo_subscriber(store), poll_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(subscription.run(stop))

    async def echoes() -> dict[int, str | None]:
        found: dict[int, str | None] = {}
        for stream in (f"echo-{traced}", f"echo-{untraced}"):
            for e in await store.read_stream(stream):
                assert isinstance(e.event, TestEchoed)
                found[e.event.n] = e.trace_context
        return found if len(found) == 2 else {}

    try:
        found = await eventually(echoes, what="both echoed")
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    assert found == {1: TRACEPARENT, 2: None}
