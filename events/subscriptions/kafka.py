"""KafkaSubscription: feeds a subscriber from Lantern's Kafka topics (production).

The consumer group shares partitions among a service's processes. Offsets live in the
store's checkpoints table, written in the same transaction as the handler's events;
on every partition assignment the consumer seeks to them, so a crash between the
database commit and the Kafka commit redelivers nothing that was already handled.
Kafka's own committed offsets are kept too, for lag monitoring.
"""

from __future__ import annotations

import asyncio
import re

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from events.cloudevents import from_message
from events.store import Checkpoint, Commit
from events.store.sql import SqlEventStore
from events.subscriptions import (
    RetryPolicy,
    Subscriber,
    handle_with_retries,
    keep_running,
    redrive_parked,
)

log = structlog.get_logger()


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
    ) -> None:
        self.store = store
        self.subscriber = subscriber
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
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=500)
                # Partitions side by side (each one in order): a handler that waits
                # on other systems does not hold up the episodes of other partitions.
                done = await asyncio.gather(
                    *(self._handle_records(tp, rs, stop) for tp, rs in batches.items())
                )
                offsets = {tp: offset for tp, offset in done if offset is not None}
                if offsets:
                    await consumer.commit(offsets)
                await redrive_parked(self.store, self.subscriber, self.retry, stop)
        finally:
            await consumer.stop()

    async def _handle_records(
        self,
        tp: TopicPartition,
        records: list,  # type: ignore[type-arg]
        stop: asyncio.Event,
    ) -> tuple[TopicPartition, int | None]:
        """Handle one partition's records in order; returns the offset to commit."""
        name = partition_name(tp)
        checkpoint: Checkpoint | None = None
        handled = False
        for record in records:
            if stop.is_set():
                break
            checkpoint = Checkpoint(self.subscriber.name, name, record.offset + 1)
            try:
                envelope = from_message(record.value, record.headers)
            except (KeyError, ValueError) as exc:  # not a Lantern event: pass it by
                log.error(
                    "foreign_message", topic=tp.topic, error_type=type(exc).__name__
                )
                handled = False
                continue
            handled = self.subscriber.handles(envelope.type)
            if handled:
                await handle_with_retries(
                    self.store.commit, self.subscriber, envelope, checkpoint, self.retry
                )
        if checkpoint is None:
            return tp, None
        if not handled:
            await self.store.commit(Commit(checkpoint=checkpoint))
        return tp, checkpoint.position
