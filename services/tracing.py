"""Each process's tracer provider: off unless ``LANTERN_OTEL_EXPORTER=otlp``, then
spans batched and exported over OTLP/HTTP (the standard ``OTEL_EXPORTER_OTLP_*``
variables say where) and flushed when the process stops cleanly.

Off, nothing is set up: the API's no-op tracer stays in place, so intake's hot
path pays one context-variable read per commit (events/tracing.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from events.settings import CoreSettings


@contextmanager
def traces(settings: CoreSettings, command: str) -> Iterator[None]:
    """Traces exported while the block runs, when the settings turn them on."""
    if settings.otel_exporter != "otlp":
        yield
        return
    name = os.environ.get("OTEL_SERVICE_NAME") or f"lantern-{command}"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    try:
        yield
    finally:
        provider.shutdown()  # exports what is still batched
