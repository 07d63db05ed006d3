"""What the store counts as it writes: events appended, by type name (a closed set,
the contracts' names), counted once the group's transaction has committed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from prometheus_client import Counter as PromCounter

from events.envelope import Envelope

EVENTS_APPENDED = PromCounter(
    "lantern_events_appended", "Events appended to the store, by type", ["type"]
)


def count_appended(written: Iterable[Envelope]) -> None:
    for kind, n in Counter(e.type for e in written).items():
        EVENTS_APPENDED.labels(kind).inc(n)
