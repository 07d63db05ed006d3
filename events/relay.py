"""The relay: publishes what the store committed to Kafka (transactional outbox).

It reads the store in position order and produces each event keyed by its stream id,
so one stream's events stay in order on one partition. The checkpoint moves only after
the broker acknowledged the whole page (acks=all, idempotent producer): after a crash
or a broker outage the page is sent again. That is at least once by design; consumers
dedupe by event id.

It creates the topic of every stream category (events/streams.py) as it starts, not
as each category's first event comes: the consumers subscribe by pattern, and each
topic that appears later costs every consumer group a rebalance, in which nothing is
handled (up to 3 s at a time under load, bench/README.md, notifier, ninth round).
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code
from sqlalchemy import text

from events.cloudevents import to_message, topic_for
from events.store import Checkpoint, Commit
from events.store.sql import SqlEventStore
from events.streams import Category
from events.subscriptions import keep_running, wait_any

log = structlog.get_logger()

NAME = "relay"
PARTITION = "store"
RELAY_LOCK = 0x4C52454C  # "LREL": held by the one relay that publishes


class KafkaRelay:
    def __init__(
        self,
        store: SqlEventStore,
        *,
        bootstrap_servers: str,
        topic_prefix: str,
        partitions: int = 6,
        replication_factor: int = 1,
        retention_ms: int = -1,
        page_size: int = 1000,
        poll_interval: float = 0.5,
    ) -> None:
        self.store = store
        self.bootstrap_servers = bootstrap_servers
        self.topic_prefix = topic_prefix
        self.partitions = partitions
        self.replication_factor = replication_factor
        self.retention_ms = retention_ms
        self.page_size = page_size
        self.poll_interval = poll_interval
        self.position = 0
        self.running = False
        self._topics: set[str] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set; reconnect with backoff after any failure."""
        self.running = True
        try:
            await keep_running(NAME, self._lead_then_publish, stop)
        finally:
            self.running = False

    async def _lead_then_publish(self, stop: asyncio.Event) -> None:
        """On PostgreSQL only one relay publishes; others wait as standbys."""
        if self.store.engine.dialect.name != "postgresql":
            await self._publish_until(stop)
            return
        async with self.store.engine.connect() as conn:
            lock = text("SELECT pg_try_advisory_lock(:key)")
            while not await conn.scalar(lock, {"key": RELAY_LOCK}):
                await wait_any(stop, asyncio.Event(), self.poll_interval * 4)
                if stop.is_set():
                    return
            try:
                await self._publish_until(stop)
            finally:
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": RELAY_LOCK}
                )

    async def _publish_until(self, stop: asyncio.Event) -> None:
        self.position = await self.store.checkpoint(NAME, PARTITION)
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            request_timeout_ms=15000,
        )
        try:
            await producer.start()
            await self._ensure_topics({f"{self.topic_prefix}{c}" for c in Category})
            log.info("relay_started", position=self.position)
            while not stop.is_set():
                changed = self.store.changes()
                if not await self._publish_page(producer):
                    await wait_any(stop, changed, self.poll_interval)
        finally:
            await producer.stop()

    async def _publish_page(self, producer: AIOKafkaProducer) -> int:
        page = await self.store.read_all(after=self.position, limit=self.page_size)
        if not page:
            return 0
        await self._ensure_topics(
            {topic_for(e.stream_id, self.topic_prefix) for e in page}
        )
        sent = []
        for envelope in page:
            key, value, headers = to_message(envelope)
            topic = topic_for(envelope.stream_id, self.topic_prefix)
            sent.append(await producer.send(topic, value, key=key, headers=headers))
        await asyncio.gather(*sent)
        self.position = page[-1].position
        await self.store.commit(
            Commit(checkpoint=Checkpoint(NAME, PARTITION, self.position))
        )
        return len(page)

    async def _ensure_topics(self, topics: set[str]) -> None:
        """Create the topics this page needs; one that exists already is fine."""
        missing = topics - self._topics
        if not missing:
            return
        config = {"retention.ms": str(self.retention_ms)}
        new = [
            NewTopic(t, self.partitions, self.replication_factor, topic_configs=config)
            for t in sorted(missing)
        ]
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        await admin.start()
        try:
            response = await admin.create_topics(new)
        finally:
            await admin.close()
        for topic, code, *_ in response.topic_errors:  # errors come back, not raised
            if code == 0:
                log.info("topic_created", topic=topic, partitions=self.partitions)
            elif code != TopicAlreadyExistsError.errno:
                raise for_code(code)(f"creating topic {topic}")
        self._topics |= missing
