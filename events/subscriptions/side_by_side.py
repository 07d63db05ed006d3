"""Side by side, stream by stream: how both subscriptions handle what they read.

Each stream's events are handled in order, different streams side by side, up to a
limit, the earliest first (with a limit of 1, strictly in order). A handler waiting on
other systems (triage's sources) then does not hold up other episodes. While events
are in hand, the checkpoint written with each handler commit stays below the lowest
of them in its partition: after a crash everything above it is handled again, which
the derived output ids make harmless.

The store feed reads a page and handles it (``handle_side_by_side``); the Kafka feed
keeps a ``SideBySide`` and adds what each fetch brings while the rest is in hand.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from events.envelope import Envelope
from events.store import Checkpoint, Commit, Recorded
from events.subscriptions import RetryPolicy, Subscriber, handle_with_retries

CommitFunction = Callable[[Commit], Awaitable[Recorded]]


class InHand:
    """One partition's events read at once, and the checkpoint that is safe to record
    while some of them are not handled yet.

    ``events`` pairs each envelope with the checkpoint that says it is handled, in
    ascending order; ``end`` is the checkpoint once all are (what lies between needs
    nothing). ``recorded`` is how far the checkpoint is known to be written: a batch
    that gets no further has nothing to write.
    """

    def __init__(
        self,
        partition: str,
        events: Sequence[tuple[int, Envelope]],
        *,
        end: int,
        recorded: int,
    ) -> None:
        self.partition = partition
        self.events = events
        self.end = end
        self.recorded = recorded
        self._left = [position for position, _ in events]
        self._recorded_at = {p: e.recorded_at for p, e in events}

    def more(self, events: Sequence[tuple[int, Envelope]], *, end: int) -> None:
        """Events read since, of the same partition (after a seek back, some again)."""
        self._left.extend(position for position, _ in events)
        for position, envelope in events:
            self._recorded_at.setdefault(position, envelope.recorded_at)
        self.end = max(self.end, end)

    def oldest(self) -> datetime | None:
        """When the oldest event still in hand was recorded (its lag's age)."""
        return min((self._recorded_at[p] for p in self._left), default=None)

    def safe(self, *, besides: int | None = None) -> int:
        """The checkpoint to record now, ``besides`` counted as handled: just below
        the lowest event still in hand, or ``end`` when none is."""
        lowest = min((p for p in self._left if p != besides), default=None)
        return self.end if lowest is None else lowest - 1

    def handled(self, position: int) -> None:
        self._left.remove(position)
        if position not in self._left:
            self._recorded_at.pop(position, None)


async def handle_side_by_side(
    batches: Sequence[InHand],
    commit: CommitFunction,
    subscriber: Subscriber,
    retry: RetryPolicy,
    *,
    limit: int,
    stop: asyncio.Event,
) -> None:
    """Handle the batches' events, up to ``limit`` at once. Once ``stop`` is set it
    starts no more: what it did not start stays in hand, below the safe checkpoint."""
    side_by_side = SideBySide(commit, subscriber, retry, limit=limit)
    side_by_side.add([(in_hand, in_hand.events) for in_hand in batches])
    try:
        while side_by_side.busy(stop):
            await side_by_side.step(stop)
    finally:
        await side_by_side.close()


class SideBySide:
    """The scheduler for a feed that keeps coming: events are added while others are
    in hand, so a new one need not wait for the slowest of the batch before it.

    ``step`` starts what it may and returns when something finishes (or one of
    ``also`` does); a handler's failure (the database gone) is raised from it.
    """

    def __init__(
        self,
        commit: CommitFunction,
        subscriber: Subscriber,
        retry: RetryPolicy,
        *,
        limit: int,
    ) -> None:
        self._handle = functools.partial(
            _handle, commit=commit, subscriber=subscriber, retry=retry
        )
        self.limit = limit
        self._queues: dict[str, deque[_Queued]] = defaultdict(deque)
        self._ready: list[tuple[int, str]] = []  # streams by their first event
        self._running: dict[asyncio.Task[None], str] = {}
        self._order = itertools.count()

    def busy(self, stop: asyncio.Event) -> bool:
        """Something in hand, or something to start (not once ``stop`` is set)."""
        return bool(self._running) or (bool(self._ready) and not stop.is_set())

    @property
    def waiting(self) -> int:
        """Events added and not started yet."""
        return sum(len(queue) for queue in self._queues.values())

    def add(
        self, batches: Sequence[tuple[InHand, Sequence[tuple[int, Envelope]]]]
    ) -> None:
        """Queue each partition's new events: each stream's in order, the partitions
        taking turns (each one's first events, then their seconds...)."""
        ranked = sorted(
            ((i, b, in_hand, position, envelope)
             for b, (in_hand, events) in enumerate(batches)
             for i, (position, envelope) in enumerate(events)),
            key=lambda item: item[:2],
        )  # fmt: skip
        running = set(self._running.values())
        for _, _, in_hand, position, envelope in ranked:
            stream = envelope.stream_id
            queue = self._queues[stream]
            queue.append((next(self._order), in_hand, position, envelope))
            if len(queue) == 1 and stream not in running:
                heapq.heappush(self._ready, (queue[0][0], stream))

    async def step(
        self, stop: asyncio.Event, also: Collection[asyncio.Future[Any]] = ()
    ) -> set[asyncio.Future[Any]]:
        """Start what may start (nothing once ``stop`` is set), then wait for a
        handler or one of ``also`` to finish; returns those of ``also`` that did."""
        while self._ready and len(self._running) < self.limit and not stop.is_set():
            _, stream = heapq.heappop(self._ready)
            _, in_hand, position, envelope = self._queues[stream].popleft()
            task = asyncio.create_task(self._handle(in_hand, position, envelope))
            self._running[task] = stream
        waiting_on = {*self._running, *also}
        if not waiting_on:
            return set()
        done, _ = await asyncio.wait(waiting_on, return_when=asyncio.FIRST_COMPLETED)
        for finished in done:
            stream = self._running.pop(finished, None)  # type: ignore[call-overload]
            if stream is None:
                continue  # one of ``also``
            finished.result()
            queue = self._queues[stream]
            if queue:
                heapq.heappush(self._ready, (queue[0][0], stream))
            else:
                del self._queues[stream]
        return {f for f in done if f in also}

    async def close(self) -> None:
        """Cancel what is in hand (it stays below the safe checkpoint)."""
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        self._running.clear()


_Queued = tuple[int, InHand, int, Envelope]  # (arrival order, ...)


async def _handle(
    in_hand: InHand,
    position: int,
    envelope: Envelope,
    *,
    commit: CommitFunction,
    subscriber: Subscriber,
    retry: RetryPolicy,
) -> None:
    async def commit_safely(c: Commit) -> Recorded:
        safe = in_hand.safe(besides=position)
        checkpoint = Checkpoint(subscriber.name, in_hand.partition, safe)
        recorded = await commit(replace(c, checkpoint=checkpoint))
        in_hand.recorded = max(in_hand.recorded, safe)
        return recorded

    own = Checkpoint(subscriber.name, in_hand.partition, position)  # kept if parked
    await handle_with_retries(commit_safely, subscriber, envelope, own, retry)
    in_hand.handled(position)
