"""Subscribers: named groups of handlers, fed by the store or by Kafka alike.

A handler takes an envelope and returns what should be appended because of it. It does
not append itself: the subscription commits its outputs together with the subscriber's
checkpoint in one transaction, and gives each output event an id derived from its
cause, so a message handled twice (after a crash, or a redelivery) changes nothing.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import structlog

from events.envelope import Envelope, NewEvent
from events.ids import derive_id
from events.registry import Event
from events.store import Append, Checkpoint, Commit, ConcurrencyError, Parking, Recorded
from events.store.sql import SqlEventStore

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Output:
    """An event a handler wants appended to ``stream_id``."""

    stream_id: str
    event: Event
    expected_version: int | None = None


Handler = Callable[[Envelope], Awaitable[Sequence[Output]]]


@dataclass(frozen=True, slots=True)
class Subscriber:
    name: str
    handlers: Mapping[str, Sequence[Handler]]
    """Handlers by event type name; events of other types pass by."""

    def handles(self, envelope_type: str) -> bool:
        return envelope_type in self.handlers


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    first_delay: float = 0.2
    max_delay: float = 10.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so retrying workers do not stampede."""
        return random.uniform(0, min(self.max_delay, self.first_delay * 2**attempt))  # noqa: S311


async def outputs_of(subscriber: Subscriber, envelope: Envelope) -> list[Append]:
    """Run the subscriber's handlers for one envelope; ids derive from the cause."""
    appends: list[Append] = []
    for handler_index, handler in enumerate(subscriber.handlers.get(envelope.type, ())):
        for index, out in enumerate(await handler(envelope)):
            new = NewEvent(
                event=out.event,
                event_id=derive_id(
                    subscriber.name, handler_index, envelope.event_id, index
                ),
                correlation_id=envelope.correlation_id,
                causation_id=envelope.event_id,
                actor=subscriber.name,
            )
            appends.append(Append(out.stream_id, [new], out.expected_version))
    return appends


async def handle_with_retries(
    commit: Callable[[Commit], Awaitable[Recorded]],
    subscriber: Subscriber,
    envelope: Envelope,
    checkpoint: Checkpoint,
    retry: RetryPolicy,
    *,
    resolve_parked: int | None = None,
) -> bool:
    """Handle and commit with the checkpoint; after the last attempt, park instead.

    Returns whether the handler succeeded. Parking also advances the checkpoint, so a
    poison message never blocks the messages behind it.
    """
    error = ""
    for attempt in range(retry.attempts):
        try:
            appends = await outputs_of(subscriber, envelope)
            await commit(Commit(appends, checkpoint, resolve_parked=resolve_parked))
            return True
        except ConcurrencyError as exc:
            error = repr(exc)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "handler_failed",
                subscriber=subscriber.name,
                event_id=str(envelope.event_id),
                event_type=envelope.type,
                attempt=attempt + 1,
                error_type=type(exc).__name__,
            )
        if attempt + 1 < retry.attempts:
            await asyncio.sleep(retry.delay(attempt))
    park = Parking(
        subscriber.name, envelope, checkpoint.partition, checkpoint.position,
        retry.attempts, error,
    )  # fmt: skip
    await commit(Commit(checkpoint=checkpoint, park=park))
    log.error(
        "message_parked",
        subscriber=subscriber.name,
        event_id=str(envelope.event_id),
        event_type=envelope.type,
    )
    return False


async def redrive_parked(
    store: SqlEventStore,
    subscriber: Subscriber,
    retry: RetryPolicy,
    stop: asyncio.Event,
) -> int:
    """Try again the parked messages that staff asked to redrive (`lantern parked`)."""
    asked = await store.parked(subscriber=subscriber.name, status="redrive")
    for parked in asked:
        envelope = await store.read_event(parked.event_id)
        if stop.is_set() or envelope is None:
            break
        checkpoint = Checkpoint(subscriber.name, parked.partition, parked.position)
        await handle_with_retries(
            store.commit,
            subscriber,
            envelope,
            checkpoint,
            retry,
            resolve_parked=parked.id,
        )
    return len(asked)
