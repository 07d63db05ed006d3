"""Subscribers: named groups of handlers, fed by the store or by Kafka alike.

A handler takes an envelope and returns what should be appended because of it. It does
not append itself: the subscription commits its outputs together with the subscriber's
checkpoint in one transaction, and gives each output event an id derived from its
cause, so a message handled twice (after a crash, or a redelivery) changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import structlog
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import ValidationError

from events import tracing
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
        ceiling = self.first_delay * 2 ** min(attempt, 30)
        return random.uniform(0, min(self.max_delay, ceiling))  # noqa: S311


def describe(exc: Exception) -> str:
    """What went wrong, for staff: never the input values (pydantic quotes them)."""
    if isinstance(exc, ValidationError):
        problems = ", ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors()
        )
        return f"ValidationError: {problems}"[:2000]
    return f"{type(exc).__name__}: {exc}"[:2000]


async def outputs_of(subscriber: Subscriber, envelope: Envelope) -> list[Append]:
    """Run the subscriber's handlers for one envelope; ids derive from the cause."""
    appends: list[Append] = []
    for handler in subscriber.handlers.get(envelope.type, ()):
        name = getattr(handler, "__name__", "handler")  # stable across deploys
        for index, out in enumerate(await handler(envelope)):
            new = NewEvent(
                event=out.event,
                event_id=derive_id(subscriber.name, name, envelope.event_id, index),
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

    An event with a trace context (``tracing``) is handled in a span under it, so
    the events it causes carry the trace on; one without (appended by a command,
    a clock, or with tracing off) starts no trace: a trace follows a report.
    """
    attributes = {
        "lantern.subscriber": subscriber.name,
        "lantern.event_type": envelope.type,
    }
    with tracing.following(
        envelope.trace_context, f"handle {envelope.type}", SpanKind.CONSUMER, attributes
    ) as span:
        handled = await _attempts(
            commit, subscriber, envelope, checkpoint, retry, resolve_parked
        )
        if span is not None and not handled:
            span.set_status(StatusCode.ERROR, "parked")
        return handled


async def _attempts(
    commit: Callable[[Commit], Awaitable[Recorded]],
    subscriber: Subscriber,
    envelope: Envelope,
    checkpoint: Checkpoint,
    retry: RetryPolicy,
    resolve_parked: int | None,
) -> bool:
    error = ""
    for attempt in range(retry.attempts):
        try:
            appends = await outputs_of(subscriber, envelope)
            await commit(Commit(appends, checkpoint, resolve_parked=resolve_parked))
            return True
        except ConcurrencyError as exc:
            error = repr(exc)
        except Exception as exc:
            error = describe(exc)
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
    """Try again the parked messages that staff asked to redrive (`lantern parked`).

    Their commits leave the checkpoint alone: handled side by side, events below a
    parked one may still be due (its checkpoint was not the one written with it).
    """

    async def commit(c: Commit) -> Recorded:
        return await store.commit(replace(c, checkpoint=None))

    asked = await store.parked(subscriber=subscriber.name, status="redrive")
    handled = 0
    for parked in asked:
        envelope = await store.read_event(parked.event_id)
        if stop.is_set():
            break
        if envelope is None:  # not in this store: leave it for staff to look at
            continue
        handled += 1
        checkpoint = Checkpoint(subscriber.name, parked.partition, parked.position)
        await handle_with_retries(
            commit,
            subscriber,
            envelope,
            checkpoint,
            retry,
            resolve_parked=parked.id,
        )
    return handled


async def wait_any(stop: asyncio.Event, changed: asyncio.Event, seconds: float) -> None:
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(changed.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def keep_running(
    worker: str,
    attempt: Callable[[asyncio.Event], Awaitable[None]],
    stop: asyncio.Event,
) -> None:
    """Run ``attempt`` until ``stop``; when it fails (the broker or the database gone),
    wait with backoff and start it again. A run that lasted a minute resets the wait."""
    backoff = RetryPolicy(first_delay=0.5, max_delay=10.0)
    failures = 0
    while not stop.is_set():
        started = time.monotonic()
        try:
            await attempt(stop)
        except Exception as exc:
            failures = 1 if time.monotonic() - started > 60 else failures + 1
            log.warning(
                "worker_failed",
                subscriber=worker,
                error_type=type(exc).__name__,
                attempt=failures,
            )
            await wait_any(stop, asyncio.Event(), backoff.delay(failures - 1))
