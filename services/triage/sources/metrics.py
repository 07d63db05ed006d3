"""Calls to the risk sources, by source and outcome (``ok``, ``error``, ``timeout``),
with their duration: a source that slows down or fails shows here before triage
assesses children without it."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SOURCE_CALLS = Counter(
    "lantern_source_calls", "Calls to a risk source, by outcome", ["source", "outcome"]
)
SOURCE_DURATION = Histogram(
    "lantern_source_call_duration_seconds",
    "Time a risk source took to answer (or fail)",
    ["source"],
)


def called(source: str, outcome: str, seconds: float) -> None:
    SOURCE_CALLS.labels(source, outcome).inc()
    SOURCE_DURATION.labels(source).observe(seconds)
