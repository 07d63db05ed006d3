"""StoreSubscription: feeds a subscriber from the store itself, in position order.

The embedded default (no Kafka) runs every service this way. It catches up in pages,
then tails: it wakes at once on a commit that appends a type it handles (in this
process; on PostgreSQL in any), and polls as well, which also moves its checkpoint
past what it does not handle. With ``concurrency`` above 1, a page's events are
handled side by side, stream by stream (``side_by_side``).
"""

from __future__ import annotations

import asyncio
import time

import structlog

from events.store import Checkpoint, Commit
from events.store.sql import SqlEventStore
from events.subscriptions import (
    RetryPolicy,
    Subscriber,
    keep_running,
    redrive_parked,
    wait_any,
)
from events.subscriptions.side_by_side import InHand, handle_side_by_side

log = structlog.get_logger()

PARTITION = "store"


class StoreSubscription:
    def __init__(
        self,
        store: SqlEventStore,
        subscriber: Subscriber,
        *,
        page_size: int = 1000,
        poll_interval: float = 0.5,
        retry: RetryPolicy | None = None,
        concurrency: int = 1,
    ) -> None:
        self.store = store
        self.concurrency = concurrency
        self.subscriber = subscriber
        self.page_size = page_size
        self.poll_interval = poll_interval
        self.retry = retry or RetryPolicy()
        self.position = 0
        self.running = False
        self._passed_at = 0.0
        self._recorded = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Process until ``stop`` is set; finishes the message in hand first, and
        outlives a database restart (it resumes from its checkpoint)."""
        self.running = True
        try:
            await keep_running(self.subscriber.name, self._follow, stop)
        finally:
            self.running = False
            log.info("subscription_stopped", subscriber=self.subscriber.name)

    async def _follow(self, stop: asyncio.Event) -> None:
        self.position = await self.store.checkpoint(self.subscriber.name, PARTITION)
        self._recorded = self.position
        log.info(
            "subscription_started",
            subscriber=self.subscriber.name,
            position=self.position,
        )
        wanted = frozenset(self.subscriber.handlers)
        asked_at = 0.0
        while not stop.is_set():
            changed = self.store.changes(wanted)  # only commits it has work in
            read = await self.run_once(stop)
            if read >= self.page_size:
                continue  # catching up: parked messages wait until it is done
            redriven = 0
            if time.monotonic() - asked_at >= self.poll_interval:  # not per commit
                asked_at = time.monotonic()
                redriven = await redrive_parked(
                    self.store, self.subscriber, self.retry, stop
                )
            if not redriven:  # a short page read all there was: wait for more
                await wait_any(stop, changed, self.poll_interval)

    async def run_once(self, stop: asyncio.Event) -> int:
        """Handle one page; returns how many events it read (0 if stopped first)."""
        page = await self.store.read_page(
            after=self.position, limit=self.page_size, types=self.subscriber.handlers
        )
        in_hand = InHand(
            PARTITION,
            [(envelope.position, envelope) for envelope in page.envelopes],
            end=page.last,
            recorded=self._recorded,
        )
        await handle_side_by_side(
            [in_hand],
            self.store.commit,
            self.subscriber,
            self.retry,
            limit=self.concurrency,
            stop=stop,
        )
        self.position, self._recorded = in_hand.safe(), in_hand.recorded
        if stop.is_set():  # what it did not handle is read again on the next run
            return 0
        await self._pass_by(caught_up=page.read < self.page_size)
        return page.read

    async def _pass_by(self, *, caught_up: bool) -> None:
        """Record how far events that need nothing were passed: once a second while
        catching up, at once when caught up. Losing it only costs a re-read."""
        now = time.monotonic()
        if self.position > self._recorded and (caught_up or now - self._passed_at >= 1):
            passed = Checkpoint(self.subscriber.name, PARTITION, self.position)
            await self.store.commit(Commit(checkpoint=passed))
            self._recorded, self._passed_at = self.position, now
