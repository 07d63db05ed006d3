"""An echo subscriber for the backbone's tests: every TestHappened becomes a TestEchoed
on a stream of its own. Run as a process (``python -m tests.echo``) to be killed."""

from __future__ import annotations

import argparse
import asyncio

from events.envelope import Envelope
from events.runtime import run_workers, stop_on_signals
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from events.subscriptions import Output, RetryPolicy, Subscriber
from events.subscriptions.kafka import KafkaSubscription
from events.subscriptions.store import StoreSubscription
from tests.builders import TestEchoed, TestHappened

NAME = "echo"


def echo_subscriber(
    store: SqlEventStore, *, fail_on: set[int] | None = None, pace: float = 0.0
) -> Subscriber:
    """``pace``: seconds each echo takes, as a handler's call to a source would; a
    test that kills the worker mid-stream needs a stream it cannot finish first."""

    async def echo(envelope: Envelope) -> list[Output]:
        event = envelope.event
        assert isinstance(event, TestHappened)
        if fail_on and event.n in fail_on:
            raise ValueError(f"cannot echo {event.n}")
        await store.read_stream(envelope.stream_id)  # real work, as a handler would do
        if pace:
            await asyncio.sleep(pace)  # the workload, not a wait for anything
        return [Output(f"echo-{envelope.stream_id}", TestEchoed(n=event.n))]

    return Subscriber(NAME, {"TestHappened": [echo]})


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--kafka")
    parser.add_argument("--prefix", default="lantern.")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--pace", type=float, default=0.0)
    args = parser.parse_args()
    store = SqlEventStore(create_engine(args.database))
    subscriber = echo_subscriber(store, pace=args.pace)
    retry = RetryPolicy(attempts=3, first_delay=0.05)
    worker = (
        KafkaSubscription(
            store, subscriber, bootstrap_servers=args.kafka, topic_prefix=args.prefix,
            group_prefix=args.prefix, retry=retry, concurrency=args.concurrency,
            # A killed echo's successor waits out its session for the partitions:
            # the broker's least (group.min.session.timeout.ms), not aiokafka's 10 s
            session_timeout_ms=6000,
        )
        if args.kafka
        else StoreSubscription(
            store, subscriber, page_size=20, retry=retry, concurrency=args.concurrency
        )
    )  # fmt: skip
    try:
        await run_workers([worker], stop_on_signals())
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
