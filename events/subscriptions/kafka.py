"""KafkaSubscription: feeds a subscriber from Lantern's Kafka topics (production).

The consumer group shares partitions among a service's processes. Offsets live in the
store's checkpoints table, written in the same transaction as the handler's events;
on every partition assignment the consumer seeks to them, so a crash between the
database commit and the Kafka commit redelivers nothing that was already handled.
Kafka's own committed offsets are kept too, for lag monitoring.

Records are handled side by side, stream by stream (``side_by_side``), across
partitions and within each, and the consumer goes on fetching meanwhile: a record
does not wait for the slowest of the batch before it. A partition's checkpoint, the
next offset to read, stays at the lowest record still in hand.
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
from events.subscriptions.metrics import kafka_lag
from events.subscriptions.side_by_side import InHand, SideBySide

log = structlog.get_logger()

POLL_S = 0.5
"""The longest a fetch waits for records; how often the checkpoints of records that
needed nothing are written, and parked messages looked up for a redrive (``_upkeep``,
beside the consumer loop)."""
FETCH_WAIT_MS = 20
"""How long the broker holds a fetch open for new records. aiokafka sends one fetch
at a time per broker and leaves out the partitions it holds records of, so a record
arriving in one of those waits for the fetch in flight to come back: with Kafka's
default (500 ms) a quiet topic added up to half a second to a busy one."""
MAX_WAITING = 1000
"""Records fetched and not yet started beyond which the consumer stops fetching."""


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
        """Seek to the store's checkpoints, read in one statement: nothing is fetched
        until this returns, and a read per partition (18 in the bench) took up to 3 s
        under load (bench/README.md, notifier, ninth round)."""
        offsets = await self.store.checkpoints(self.name)
        for tp in assigned:
            if offset := offsets.get(partition_name(tp)):
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
        session_timeout_ms: int = 10000,
        group_prefix: str = "",
    ) -> None:
        self.store = store
        self.group_id = f"{group_prefix}{subscriber.name}"
        """Every process with this group id shares its partitions, and each one that
        joins or leaves pauses all of them (a rebalance), whatever topics it reads:
        two deployments, or a test run and a benchmark, on one broker need a prefix
        each (``LANTERN_KAFKA_GROUP_PREFIX``)."""
        self.session_timeout_ms = session_timeout_ms
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
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5000,
            fetch_max_wait_ms=FETCH_WAIT_MS,
            session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=self.session_timeout_ms // 3,  # Kafka's advice
        )
        listener = _SeekToCheckpoints(consumer, self.store, self.subscriber.name)
        consumer.subscribe(
            pattern=f"^{re.escape(self.topic_prefix)}.*", listener=listener
        )
        await consumer.start()
        log.info(
            "subscription_started", subscriber=self.subscriber.name, transport="kafka"
        )
        side_by_side = SideBySide(
            self.store.commit, self.subscriber, self.retry, limit=self.concurrency
        )
        in_hand: dict[TopicPartition, InHand] = {}
        fetch: asyncio.Future[dict[TopicPartition, list[ConsumerRecord]]] | None = None
        upkeep: asyncio.Future[None] | None = None
        kept_at = time.monotonic()
        try:
            while not stop.is_set():
                if fetch is None and side_by_side.waiting < MAX_WAITING:
                    fetch = asyncio.ensure_future(
                        consumer.getmany(timeout_ms=int(POLL_S * 1000), max_records=500)
                    )
                if await side_by_side.step(stop, [fetch] if fetch else []):
                    assert fetch is not None  # noqa: S101 - it is what finished
                    batches, fetch = fetch.result(), None
                    side_by_side.add(
                        [self._take(in_hand, tp, rs) for tp, rs in batches.items()]
                    )
                if time.monotonic() - kept_at >= POLL_S and (
                    upkeep is None or upkeep.done()  # never waited for here
                ):
                    if upkeep is not None:
                        upkeep.result()  # raises what it met
                    kept_at = time.monotonic()
                    upkeep = asyncio.ensure_future(
                        self._upkeep(consumer, in_hand, stop)
                    )
            while side_by_side.busy(stop):  # finish what is in hand
                await side_by_side.step(stop)
            if upkeep is not None:
                await upkeep
            await self._record(consumer, in_hand)
        finally:
            for task in (fetch, upkeep):
                if task is not None:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
            await side_by_side.close()
            await consumer.stop()

    def _take(
        self,
        in_hand: dict[TopicPartition, InHand],
        tp: TopicPartition,
        records: list[ConsumerRecord],
    ) -> tuple[InHand, list[tuple[int, Envelope]]]:
        """The partition's new records this subscriber handles (the others pass by),
        added to what is in hand of it."""
        events = []
        for record in records:
            kind = _type_of(record)
            if kind is not None and not self.subscriber.handles(kind):
                continue  # passed by unread: most records are for other subscribers
            envelope = _lantern_event(tp, record)
            if envelope is not None and self.subscriber.handles(envelope.type):
                events.append((record.offset + 1, envelope))
        end = records[-1].offset + 1
        if tp in in_hand:
            in_hand[tp].more(events, end=end)
        else:  # the consumer read from the first record: recording it gains nothing
            in_hand[tp] = InHand(
                partition_name(tp), events, end=end, recorded=records[0].offset
            )
        return in_hand[tp], events

    async def _upkeep(
        self,
        consumer: AIOKafkaConsumer,
        in_hand: dict[TopicPartition, InHand],
        stop: asyncio.Event,
    ) -> None:
        """Every ``POLL_S``, beside the handlers and the fetches, one at a time: how
        far the partitions got, and the parked messages staff asked to redrive. The
        commit waits for the group before it, which may wait for the append lock, and
        the lookup is a read: under load each took up to a second or two, and while
        the consumer loop waited for them it started no record it had fetched
        (bench/README.md, notifier, ninth round)."""
        await self._record(consumer, in_hand)
        await redrive_parked(self.store, self.subscriber, self.retry, stop)

    async def _record(
        self, consumer: AIOKafkaConsumer, in_hand: dict[TopicPartition, InHand]
    ) -> None:
        """Record how far each partition got where no handler commit did (its last
        records needed nothing), in the store and, for lag monitoring, in Kafka."""
        reached = {tp: partition.safe() for tp, partition in in_hand.items()}
        behind = [tp for tp, p in in_hand.items() if reached[tp] > p.recorded]
        await asyncio.gather(  # side by side: the store writes them in one commit
            *(
                self.store.commit(
                    Commit(checkpoint=Checkpoint(self.subscriber.name,
                                                 in_hand[tp].partition, reached[tp]))
                )
                for tp in behind
            )
        )  # fmt: skip
        for tp in behind:
            in_hand[tp].recorded = max(in_hand[tp].recorded, reached[tp])
        assigned = consumer.assignment()
        offsets = {tp: offset for tp, offset in reached.items() if tp in assigned}
        self._report_lag(consumer, in_hand, offsets)
        if offsets:
            await consumer.commit(offsets)

    def _report_lag(
        self,
        consumer: AIOKafkaConsumer,
        in_hand: dict[TopicPartition, InHand],
        reached: dict[TopicPartition, int],
    ) -> None:
        """From what the consumer knows already (the high watermarks of its last
        fetches): no call to the broker. A partition not fetched from yet counts 0."""
        behind = 0
        for tp, offset in reached.items():
            high = consumer.highwater(tp)
            behind += max(high - offset, 0) if high is not None else 0
        oldest = min(
            (at for tp in reached if (at := in_hand[tp].oldest()) is not None),
            default=None,
        )
        kafka_lag(self.subscriber.name, behind, oldest)


def _type_of(record: ConsumerRecord) -> str | None:
    """The event type from the record's CloudEvents header (None if it has none)."""
    for key, value in record.headers or ():
        if key == "ce_type":
            return bytes(value).decode()
    return None


def _lantern_event(tp: TopicPartition, record: ConsumerRecord) -> Envelope | None:
    try:
        return from_message(record.value, record.headers)
    except (KeyError, ValueError) as exc:  # not a Lantern event: pass it by
        log.error("foreign_message", topic=tp.topic, error_type=type(exc).__name__)
        return None
