"""Side by side, stream by stream: how both subscriptions handle what they read at once.

Each stream's events are handled in order, different streams side by side, up to a
limit, the earliest first (with a limit of 1, strictly in order). A handler waiting on
other systems (triage's sources) then does not hold up other episodes. While events
are in hand, the checkpoint written with each handler commit stays below the lowest
of them in its partition: after a crash everything above it is handled again, which
the derived output ids make harmless.
"""

from __future__ import annotations

import asyncio
import heapq
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

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

    def safe(self, *, besides: int | None = None) -> int:
        """The checkpoint to record now, ``besides`` counted as handled: just below
        the lowest event still in hand, or ``end`` when none is."""
        lowest = next((p for p in self._left if p != besides), None)
        return self.end if lowest is None else lowest - 1

    def handled(self, position: int) -> None:
        self._left.remove(position)


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
    queues, ready = _by_stream(batches)
    running: dict[asyncio.Task[None], str] = {}
    try:
        while running or (ready and not stop.is_set()):
            while ready and len(running) < limit and not stop.is_set():
                _, stream = heapq.heappop(ready)
                _, in_hand, position, envelope = queues[stream].popleft()
                handling = _handle(
                    in_hand, position, envelope, commit, subscriber, retry
                )
                running[asyncio.create_task(handling)] = stream
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                stream = running.pop(task)
                task.result()  # a failure (the database gone) ends the batch
                if queues[stream]:
                    heapq.heappush(ready, (queues[stream][0][0], stream))
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


_Rank = tuple[int, int]  # (index in its batch, batch): batches take turns
_Queued = tuple[_Rank, InHand, int, Envelope]


def _by_stream(
    batches: Sequence[InHand],
) -> tuple[dict[str, deque[_Queued]], list[tuple[_Rank, str]]]:
    """Each stream's events in order, and a heap of the streams by their first."""
    queues: dict[str, deque[_Queued]] = defaultdict(deque)
    for b, in_hand in enumerate(batches):
        for i, (position, envelope) in enumerate(in_hand.events):
            queues[envelope.stream_id].append(((i, b), in_hand, position, envelope))
    ready = [(queue[0][0], stream) for stream, queue in queues.items()]
    heapq.heapify(ready)
    return queues, ready


async def _handle(
    in_hand: InHand,
    position: int,
    envelope: Envelope,
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
