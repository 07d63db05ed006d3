"""The process's metrics, one registry for every owner's families (prometheus-client's
own), and the refresher that keeps the gauges read from the database current.

Families live beside what they count (events/store/metrics.py, each service's
metrics.py); this module only exposes them. Labels are closed sets (route templates,
type, channel, source and subscription names, outcomes): never a child, an episode
or a person, so a scrape can go to any monitoring system.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.registry import Collector

from events.subscriptions import wait_any

log = structlog.get_logger()
# No `_created` twin of each counter: half the scrape, and unused.
disable_created_metrics()  # type: ignore[no-untyped-call]

Probe = Callable[[], Awaitable[None]]
"""Reads a few figures from the database and sets its owner's gauges."""


def exposition() -> tuple[bytes, str]:
    """The Prometheus text format of every family, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def owned(*collectors: Collector) -> None:
    """Export gauges defined unregistered (``registry=None``) from the process that
    keeps them, once it has read them: exported wherever their module is imported,
    every other process (and this one before its first read) would report 0.
    Registering again is a no-op."""
    for collector in collectors:
        with contextlib.suppress(ValueError):  # registered already
            REGISTRY.register(collector)


class Refresher:
    """A worker that runs its probes every ``interval`` seconds: gauges read from the
    read models on a timer, not per scrape, so a scraper cannot load the database.
    A probe that fails leaves its gauges as they were and is tried next round."""

    def __init__(self, probes: Sequence[Probe], interval: float) -> None:
        self.probes = list(probes)
        self.interval = interval
        self.running = False

    async def run(self, stop: asyncio.Event) -> None:
        self.running = True
        try:
            while not stop.is_set():
                await self.refresh()
                await wait_any(stop, asyncio.Event(), self.interval)
        finally:
            self.running = False

    async def refresh(self) -> None:
        for probe in self.probes:
            try:
                await probe()
            except Exception as exc:  # the database away: the next round tries again
                log.warning(
                    "metrics_probe_failed",
                    probe=getattr(probe, "__qualname__", "probe"),
                    error_type=type(exc).__name__,
                )
