"""Trace context as the log carries it: the W3C ``traceparent`` (and ``tracestate``)
of the span that appended an event, so whoever handles the event, in whichever
process, carries on the same trace.

Only the OpenTelemetry API is used here. With tracing off no SDK is set up, every
span is the API's no-op one, and ``current`` costs one context-variable read.
The stored form is the ``traceparent`` header, then ``;`` and the ``tracestate``
when there is one: a ``traceparent`` never holds a ``;``, so the first one ends it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

W3C = TraceContextTextMapPropagator()
TRACEPARENT, TRACESTATE = "traceparent", "tracestate"
tracer = trace.get_tracer("lantern")
"""A proxy until a process sets up its provider (services/tracing.py); no-op if none."""


def current() -> str | None:
    """The trace context of the span in hand, as stored; None when there is none."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    W3C.inject(carrier)
    return stored(carrier)


def stored(carrier: Mapping[str, str]) -> str | None:
    """The stored form of W3C headers; None without a ``traceparent``."""
    parent = carrier.get(TRACEPARENT)
    if not parent:
        return None
    state = carrier.get(TRACESTATE)
    return f"{parent};{state}" if state else parent


def carrier(trace_context: str | None) -> dict[str, str]:
    """The W3C headers of a stored trace context (none for None)."""
    if not trace_context:
        return {}
    parent, _, state = trace_context.partition(";")
    return {TRACEPARENT: parent, TRACESTATE: state} if state else {TRACEPARENT: parent}


def parent(trace_context: str | None) -> Context | None:
    """The context to start a span under: the event's span, or a new trace."""
    return W3C.extract(carrier(trace_context)) if trace_context else None


def following(
    trace_context: str | None,
    name: str,
    kind: SpanKind,
    attributes: Mapping[str, str] | None = None,
) -> AbstractContextManager[Span | None]:
    """A span carrying on an event's trace; none for an event without one (appended
    by a command, a clock, or with tracing off): a trace follows a report."""
    if trace_context is None:
        return nullcontext()
    return span(name, kind, trace_context=trace_context, attributes=attributes)


@contextmanager
def span(
    name: str,
    kind: SpanKind,
    *,
    trace_context: str | None = None,
    attributes: Mapping[str, str] | None = None,
) -> Iterator[Span]:
    """A current span, under ``trace_context`` when given (else the span in hand).
    Attributes are closed sets only: event types, channel and source names. An
    exception is recorded by its type alone: its message may quote personal data
    (a validation error's input, a statement's parameters)."""
    context = parent(trace_context) if trace_context else None
    with tracer.start_as_current_span(
        name,
        context=context,
        kind=kind,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as started:
        try:
            yield started
        except BaseException as exc:
            started.set_status(StatusCode.ERROR, type(exc).__name__)
            raise
