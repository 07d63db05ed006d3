"""KafkaSubscription: feeds a subscriber from Lantern's Kafka topics (production).

The consumer group shares partitions among a service's processes. Offsets live in the
store's checkpoints table, written in the same transaction as the handler's events;
on every partition assignment the consumer seeks to them, so a crash between the
database commit and the Kafka commit redelivers nothing that was already handled.
Kafka's own committed offsets are kept too, for lag monitoring.

A batch's records are handled side by side, stream by stream (``side_by_side``),
across its partitions and within each: a partition's checkpoint, the next offset to
read, stays at the lowest record still in hand.
"""

from __future__ import annotations

import asyncio
import re
import time

import structlog
from aiokafka import (
    AIOKafkaConsumer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)

from events.cloudevents import from_message
from events.envelope import Envelope
from events.store import Checkpoint, Commit
from events.store.sql import SqlEventStore
from events.subscriptions import (
    RetryPolicy,
    Subscriber,
    keep_running,
    redrive_parked,
)
from events.subscriptions.side_by_side import InHand, handle_side_by_side

log = structlog.get_logger()

POLL_S = 0.5
"""The longest a fetch waits for records, and how often parked messages are looked
up for a redrive."""


def partition_name(tp: TopicPartition) -> str:
    return f"{tp.topic}:{tp.partition}"


class _SeekToCheckpoints(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(
        self, consumer: AIOKafkaConsumer, store: SqlEventStore, name: str
    ) -> None:
        self.consumer = consumer
        self.store = store
        self.name = name

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        for tp in assigned:
            offset = await self.store.checkpoint(self.name, partition_name(tp))
            if offset:
                self.consumer.seek(tp, offset)


class KafkaSubscription:
    def __init__(
        self,
        store: SqlEventStore,
        subscriber: Subscriber,
        *,
        bootstrap_servers: str,
        topic_prefix: str,
        retry: RetryPolicy | None = None,
        concurrency: int = 1,
    ) -> None:
        self.store = store
        self.subscriber = subscriber
        self.concurrency = concurrency
        self.bootstrap_servers = bootstrap_servers
        self.topic_prefix = topic_prefix
        self.retry = retry or RetryPolicy()
        self.running = False

    async def run(self, stop: asyncio.Event) -> None:
        self.running = True
        try:
            await keep_running(self.subscriber.name, self._consume_until, stop)
        finally:
            self.running = False

    async def _consume_until(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.subscriber.name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5000,
        )
        listener = _SeekToCheckpoints(consumer, self.store, self.subscriber.name)
        consumer.subscribe(
            pattern=f"^{re.escape(self.topic_prefix)}.*", listener=listener
        )
        await consumer.start()
        log.info(
            "subscription_started", subscriber=self.subscriber.name, transport="kafka"
        )
        asked_at = 0.0
        try:
            while not stop.is_set():
                batches = await consumer.getmany(
                    timeout_ms=int(POLL_S * 1000), max_records=500
                )
                in_hand = {tp: self._in_hand(tp, rs) for tp, rs in batches.items()}
                await handle_side_by_side(
                    list(in_hand.values()),
                    self.store.commit,
                    self.subscriber,
                    self.retry,
                    limit=self.concurrency,
                    stop=stop,
                )
                reached = await asyncio.gather(*map(self._record, in_hand.values()))
                if reached:
                    await consumer.commit(dict(zip(in_hand, reached, strict=True)))
                if time.monotonic() - asked_at >= POLL_S:  # not between every batch
                    asked_at = time.monotonic()
                    await redrive_parked(self.store, self.subscriber, self.retry, stop)
        finally:
            await consumer.stop()

    def _in_hand(self, tp: TopicPartition, records: list[ConsumerRecord]) -> InHand:
        """The partition's records this subscriber handles; the others pass by."""
        events = []
        for record in records:
            envelope = _lantern_event(tp, record)
            if envelope is not None and self.subscriber.handles(envelope.type):
                events.append((record.offset + 1, envelope))
        end = records[-1].offset + 1
        # The consumer read from the first record: recording that again gains nothing.
        return InHand(partition_name(tp), events, end=end, recorded=records[0].offset)

    async def _record(self, in_hand: InHand) -> int:
        """Record how far the partition got where no handler commit did (its last
        records needed nothing, or ``stop`` came first); returns that offset."""
        reached = in_hand.safe()
        if reached > in_hand.recorded:
            checkpoint = Checkpoint(self.subscriber.name, in_hand.partition, reached)
            await self.store.commit(Commit(checkpoint=checkpoint))
        return reached


def _lantern_event(tp: TopicPartition, record: ConsumerRecord) -> Envelope | None:
    try:
        return from_message(record.value, record.headers)
    except (KeyError, ValueError) as exc:  # not a Lantern event: pass it by
        log.error("foreign_message", topic=tp.topic, error_type=type(exc).__name__)
        return None
