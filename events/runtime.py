"""What every Lantern process runs on: the store, its workers, and a clean stop.

Workers (subscriptions, the relay) run until a stop event is set; SIGTERM and SIGINT
set it, each worker finishes the message in hand, in the order they were given, and
only then does the process exit.
"""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

import uvloop

from events.settings import CoreSettings
from events.store import Projector
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from events.subscriptions import Subscriber
from events.subscriptions.kafka import KafkaSubscription
from events.subscriptions.store import StoreSubscription

T = TypeVar("T")


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """A long-running process's event loop: uvloop, which does the loop's own work
    (sockets, timers, wake-ups from the database threads) in C. Every process of
    Lantern spends much of its time there (bench/README.md: the second round)."""
    return uvloop.run(main)


def settle_after_start() -> None:
    """For a long-running process once it has started: the garbage collector
    leaves start-up's objects alone, and runs less often. A full collection
    walks every object (170 ms each with start-up's among them); and with the
    default threshold of 700 allocations a stored report, which allocates
    hundreds, set one off every request or two: 12% of intake's CPU per report
    (bench/README.md, intake, eighth round). Garbage with cycles waits a little
    longer for its collection."""
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


class Worker(Protocol):
    running: bool

    async def run(self, stop: asyncio.Event) -> None: ...


@asynccontextmanager
async def open_store(
    settings: CoreSettings, projectors: Sequence[Projector] = ()
) -> AsyncIterator[SqlEventStore]:
    store = SqlEventStore(create_engine(settings.database_url), projectors=projectors)
    try:
        yield store
    finally:
        await store.close()


def subscription_for(
    settings: CoreSettings, store: SqlEventStore, subscriber: Subscriber
) -> Worker:
    """Kafka-fed when Kafka is configured, otherwise fed by the store itself."""
    if settings.kafka_bootstrap_servers:
        return KafkaSubscription(
            store,
            subscriber,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            topic_prefix=settings.kafka_topic_prefix,
            concurrency=settings.subscription_concurrency,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            group_prefix=settings.kafka_group_prefix,
        )
    return StoreSubscription(
        store, subscriber, concurrency=settings.subscription_concurrency
    )


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_workers(workers: Sequence[Worker], stop: asyncio.Event) -> None:
    """Run side by side; once ``stop`` is set, each stops after the ones before it
    have: a later one still acts on what an earlier one recorded while stopping (the
    dispatcher sends the messages the handlers claimed; the relay relays it all)."""
    async with asyncio.TaskGroup() as group:
        before: asyncio.Task[None] | None = None
        for worker in workers:
            own = stop if before is None else asyncio.Event()
            if before is not None:
                group.create_task(_stop_after(stop, before, own))
            before = group.create_task(worker.run(own))


async def _stop_after(
    stop: asyncio.Event, before: asyncio.Task[None], own: asyncio.Event
) -> None:
    await stop.wait()
    await asyncio.wait([before])
    own.set()
