"""StoreSubscription: feeds a subscriber from the store itself, in position order.

The embedded default (no Kafka) runs every service this way. It catches up in pages,
then tails: it wakes at once on a commit that appends a type it handles (in this
process; on PostgreSQL in any), and polls as well, which also moves its checkpoint
past what it does not handle.

With ``concurrency`` above 1, a page's events are handled side by side, stream by
stream: each stream's events in order, up to that many at once, so a handler that
waits on other systems (triage's sources) does not hold up other episodes. Each
commit's checkpoint then stays below the lowest event still in hand: after a crash,
everything above it is handled again, which the derived output ids make harmless.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

import structlog

from events.envelope import Envelope
from events.store import Checkpoint, Commit, Recorded
from events.store.sql import SqlEventStore
from events.subscriptions import (
    RetryPolicy,
    Subscriber,
    handle_with_retries,
    keep_running,
    redrive_parked,
    wait_any,
)

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
            if not read and not redriven:
                await wait_any(stop, changed, self.poll_interval)

    async def run_once(self, stop: asyncio.Event) -> int:
        """Handle one page; returns how many events it read."""
        page = await self.store.read_page(
            after=self.position, limit=self.page_size, types=self.subscriber.handlers
        )
        handle = self._in_order if self.concurrency == 1 else self._side_by_side
        if not await handle(page.envelopes, page.last, stop):
            return 0
        self.position = page.last
        await self._pass_by(caught_up=page.read < self.page_size)
        return page.read

    async def _in_order(
        self, envelopes: Sequence[Envelope], last: int, stop: asyncio.Event
    ) -> bool:
        """Handle the page one event at a time; False if stopped before the end."""
        for envelope in envelopes:
            if stop.is_set():  # only an await lets it change: check after each one
                return False
            checkpoint = Checkpoint(self.subscriber.name, PARTITION, envelope.position)
            await handle_with_retries(
                self.store.commit, self.subscriber, envelope, checkpoint, self.retry
            )
            self._recorded = self.position = envelope.position
        return True

    async def _side_by_side(
        self, envelopes: Sequence[Envelope], last: int, stop: asyncio.Event
    ) -> bool:
        """Handle the page stream by stream; False if stopped before the end."""
        in_hand = {e.position for e in envelopes}
        by_stream: dict[str, list[Envelope]] = defaultdict(list)
        for envelope in envelopes:
            by_stream[envelope.stream_id].append(envelope)
        slots = asyncio.Semaphore(self.concurrency)

        def safe_for(position: int) -> int:
            others = [p for p in in_hand if p != position]
            return min(others) - 1 if others else last

        def commit_for(position: int) -> Callable[[Commit], Awaitable[Recorded]]:
            async def commit(c: Commit) -> Recorded:
                if c.checkpoint is not None:
                    safe = replace(c.checkpoint, position=safe_for(position))
                    c = replace(c, checkpoint=safe)
                return await self.store.commit(c)

            return commit

        async def stream(chain: list[Envelope]) -> None:
            for envelope in chain:
                if stop.is_set():
                    return
                checkpoint = Checkpoint(
                    self.subscriber.name, PARTITION, envelope.position
                )
                async with slots:
                    await handle_with_retries(
                        commit_for(envelope.position),
                        self.subscriber, envelope, checkpoint, self.retry,
                    )  # fmt: skip
                self._recorded = max(self._recorded, safe_for(envelope.position))
                in_hand.discard(envelope.position)

        await asyncio.gather(*(stream(chain) for chain in by_stream.values()))
        if in_hand:  # stopped: resume below what was not handled
            self.position = min(in_hand) - 1
            return False
        return True

    async def _pass_by(self, *, caught_up: bool) -> None:
        """Record how far events that need nothing were passed: once a second while
        catching up, at once when caught up. Losing it only costs a re-read."""
        now = time.monotonic()
        if self.position > self._recorded and (caught_up or now - self._passed_at >= 1):
            passed = Checkpoint(self.subscriber.name, PARTITION, self.position)
            await self.store.commit(Commit(checkpoint=passed))
            self._recorded, self._passed_at = self.position, now
