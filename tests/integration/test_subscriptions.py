"""Subscriptions: outputs land once with their checkpoint; poison is parked."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from events import relay
from events.cloudevents import to_message, topic_for
from events.envelope import Envelope, NewEvent
from events.relay import KafkaRelay
from events.runtime import Worker
from events.store import Commit, Page, ParkedMessage, Parking
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from events.streams import Category
from events.subscriptions import Output, RetryPolicy, Subscriber, redrive_parked
from events.subscriptions.kafka import KafkaSubscription
from events.subscriptions.store import PARTITION, StoreSubscription
from tests.builders import TestEchoed, a_stream, happened
from tests.echo import NAME, echo_subscriber
from tests.waiting import eventually


async def _echoes(store: SqlEventStore) -> list:
    everything, after = [], 0
    while page := await store.read_all(after=after):
        everything += [e for e in page if e.type == "TestEchoed"]
        after = page[-1].position
    return everything


async def _seed(store: SqlEventStore, streams: int, per_stream: int) -> int:
    for _ in range(streams):
        await store.append(
            a_stream(), [happened(i) for i in range(per_stream)], expected_version=0
        )
    return streams * per_stream


@asynccontextmanager
async def _running(worker: Worker) -> AsyncIterator[asyncio.Event]:
    """Run ``worker``, then stop it; cancel it if a handler hangs (a failed test)."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


class TestStoreSubscription:
    async def test_outputs_carry_derived_ids_and_provenance(self, store: SqlEventStore):
        cause = happened(7, correlation_id=None)
        stream = a_stream()
        await store.append(stream, [cause], expected_version=0)

        async with _running(StoreSubscription(store, echo_subscriber(store))):
            [echo] = await eventually(lambda: _echoes(store), what="an echo")

        assert echo.stream_id == f"echo-{stream}"
        assert echo.causation_id == cause.event_id
        assert echo.correlation_id == cause.event_id
        assert echo.actor == NAME
        assert await store.checkpoint(NAME, PARTITION) >= echo.position - 1

    async def test_replaying_from_the_start_changes_nothing(self, store: SqlEventStore):
        total = await _seed(store, streams=3, per_stream=5)
        async with _running(StoreSubscription(store, echo_subscriber(store))):
            await eventually(lambda: _count_is(store, total))

        replay = StoreSubscription(store, echo_subscriber(store))
        replay.position = 0  # as if the checkpoint were lost
        await replay.run_once(asyncio.Event())

        assert len(await _echoes(store)) == total

    async def test_poison_message_is_parked_and_the_rest_flow(
        self, store: SqlEventStore
    ):
        stream = a_stream()
        await store.append(stream, [happened(i) for i in range(5)], expected_version=0)
        fast = RetryPolicy(attempts=2, first_delay=0.001)
        failing = StoreSubscription(
            store, echo_subscriber(store, fail_on={2}), retry=fast
        )

        async with _running(failing):
            await eventually(lambda: _count_is(store, 4))
            [parked] = await eventually(lambda: store.parked(subscriber=NAME))

        assert parked.attempts == 2 and "cannot echo 2" in parked.error
        assert sorted(e.data["n"] for e in await _echoes(store)) == [0, 1, 3, 4]

        await store.request_redrive([parked.id])
        healed = StoreSubscription(store, echo_subscriber(store), retry=fast)
        async with _running(healed):
            await eventually(lambda: _count_is(store, 5))
            await eventually(lambda: _resolved(store))
        assert sorted(e.data["n"] for e in await _echoes(store)) == [0, 1, 2, 3, 4]

    async def test_catching_up_on_events_it_passes_by_lets_the_process_run(
        self, store: SqlEventStore, monkeypatch: pytest.MonkeyPatch
    ):
        """The embedded process serves HTTP on the same event loop: a subscription
        reading page after page of events it does not handle must not hold it."""
        await store.append(
            a_stream(),
            [NewEvent(event=TestEchoed(n=i)) for i in range(100)],
            expected_version=0,
        )
        ticks, ticks_at_each_read = 0, []
        read_page = store.read_page

        async def counted(**page: Any) -> Page:
            ticks_at_each_read.append(ticks)
            return await read_page(**page)

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        monkeypatch.setattr(store, "read_page", counted)
        ticker = asyncio.create_task(tick())
        catching_up = StoreSubscription(store, echo_subscriber(store), page_size=10)
        try:
            async with _running(catching_up):
                await eventually(lambda: _passed(store, 100))
        finally:
            ticker.cancel()

        pages = list(itertools.pairwise(ticks_at_each_read))
        assert len(pages) >= 10
        assert all(later > earlier for earlier, later in pages)  # a turn per page


@dataclass
class Feed:
    """What a subscription reads from: the store itself, or (with ``kafka``, the
    servers and a topic prefix) a one-partition topic the relay fills from it."""

    store: SqlEventStore
    kafka: tuple[str, str] | None = None

    @property
    def partition(self) -> str:
        return f"{self.kafka[1]}test:0" if self.kafka else PARTITION

    async def checkpoint(self, subscriber: str) -> int:
        return await self.store.checkpoint(subscriber, self.partition)

    async def subscription(self, subscriber: Subscriber, *, concurrency: int) -> Worker:
        """On Kafka, once all that is stored is on the topic (read in one batch)."""
        if self.kafka is None:
            return StoreSubscription(self.store, subscriber, concurrency=concurrency)
        servers, prefix = self.kafka
        await self.publish()
        return KafkaSubscription(
            self.store, subscriber, bootstrap_servers=servers, topic_prefix=prefix,
            group_prefix=prefix, concurrency=concurrency,
        )  # fmt: skip

    @asynccontextmanager
    async def running(
        self, subscriber: Subscriber, *, concurrency: int
    ) -> AsyncIterator[asyncio.Event]:
        worker = await self.subscription(subscriber, concurrency=concurrency)
        async with _running(worker) as stop:
            yield stop

    async def publish(self) -> None:
        """Everything stored so far onto the topic (the relay, until it is there)."""
        assert self.kafka is not None
        servers, prefix = self.kafka
        head = await self.store.head()
        publisher = KafkaRelay(
            self.store, bootstrap_servers=servers, topic_prefix=prefix, partitions=1
        )

        async def published() -> bool:
            return await self.store.checkpoint(relay.NAME, relay.PARTITION) >= head

        async with _running(publisher):
            await eventually(published, timeout=30, what="all on Kafka")


@pytest.fixture(params=["sqlite", "postgres", "kafka"])
def feed_source(request: pytest.FixtureRequest) -> tuple[str, tuple[str, str] | None]:
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_database"), None
    kafka = None
    if request.param == "kafka":
        servers = request.getfixturevalue("kafka_servers")
        kafka = (servers, request.getfixturevalue("topic_prefix"))
    return request.getfixturevalue("pg_database"), kafka


@pytest.fixture
async def feed(
    feed_source: tuple[str, tuple[str, str] | None],
) -> AsyncIterator[Feed]:
    database, kafka = feed_source
    store = SqlEventStore(create_engine(database))
    yield Feed(store, kafka)
    await store.close()


class TestSideBySide:
    """concurrency > 1: streams handled side by side, each in order, whatever feeds
    the subscription (on Kafka: within one partition)."""

    async def test_streams_overlap_and_each_keeps_its_order(self, feed: Feed):
        streams = [a_stream() for _ in range(3)]
        for stream in streams:
            await feed.store.append(
                stream, [happened(i) for i in range(4)], expected_version=0
            )
        seen: list[tuple[str, int]] = []
        started = {s: asyncio.Event() for s in streams}

        async def record(envelope: Envelope) -> list[Output]:
            started[envelope.stream_id].set()
            # Every stream must be in hand at once before any goes on: handled
            # one at a time, this would never finish.
            await asyncio.wait_for(
                asyncio.gather(*(e.wait() for e in started.values())), 10
            )
            seen.append((envelope.stream_id, envelope.data["n"]))
            return []

        subscriber = Subscriber("overlap", {"TestHappened": [record]})
        async with feed.running(subscriber, concurrency=3):
            await eventually(lambda: len(seen) == 12, timeout=30, what="all handled")
        for stream in streams:
            assert [n for s, n in seen if s == stream] == [0, 1, 2, 3]

    async def test_the_checkpoint_stays_below_an_event_still_in_hand(self, feed: Feed):
        slow, fast = a_stream(), a_stream()
        await feed.store.append(slow, [happened(0)], expected_version=0)
        await feed.store.append(
            fast, [happened(i) for i in range(5)], expected_version=0
        )
        release, handled = asyncio.Event(), []

        async def handler(envelope: Envelope) -> list[Output]:
            if envelope.stream_id == slow:
                await release.wait()
            handled.append(envelope.position)
            return []

        subscriber = Subscriber("held", {"TestHappened": [handler]})
        async with feed.running(subscriber, concurrency=2):
            await eventually(lambda: len(handled) == 5, timeout=30, what="fast stream")
            # The slow event is position 1 (offset 0 on Kafka): 0 either way.
            assert await feed.checkpoint("held") == 0
            release.set()
            await eventually(lambda: _checkpoint_is(feed, "held", 6), what="all past")

    async def test_a_stop_resumes_at_the_first_event_not_handled(self, feed: Feed):
        held, other = a_stream(), a_stream()
        await feed.store.append(held, [happened(0), happened(1)], expected_version=0)
        await feed.store.append(
            other, [happened(i) for i in range(3)], expected_version=0
        )
        release, handled = asyncio.Event(), []

        async def echo(envelope: Envelope) -> list[Output]:
            if (envelope.stream_id, envelope.data["n"]) == (held, 0):
                await release.wait()
            handled.append((envelope.stream_id, envelope.data["n"]))
            n = envelope.data["n"]
            return [Output(f"echo-{envelope.stream_id}", TestEchoed(n=n))]

        subscriber = Subscriber("stopped", {"TestHappened": [echo]})
        async with feed.running(subscriber, concurrency=2) as stop:
            await eventually(lambda: len(handled) == 3, timeout=30, what="other")
            stop.set()  # with held's first in hand, and its second waiting for it
            release.set()
        assert (held, 1) not in handled
        # held's second is position 2 (offset 1 on Kafka): 1 either way.
        assert await feed.checkpoint("stopped") == 1

        async with feed.running(subscriber, concurrency=2):
            await eventually(lambda: _count_is(feed.store, 5), timeout=30)
        echoes = await _echoes(feed.store)  # each cause once, though some ran twice
        assert len({e.causation_id for e in echoes}) == len(echoes) == 5

    async def test_a_crash_loses_nothing_that_was_in_hand(self, feed: Feed):
        slow, fast = a_stream(), a_stream()
        await feed.store.append(slow, [happened(0)], expected_version=0)
        await feed.store.append(
            fast, [happened(i) for i in range(4)], expected_version=0
        )
        crashed = asyncio.Event()

        async def echo(envelope: Envelope) -> list[Output]:
            if envelope.stream_id == slow:
                await crashed.wait()  # in hand when the worker dies
            n = envelope.data["n"]
            return [Output(f"echo-{envelope.stream_id}", TestEchoed(n=n))]

        subscriber = Subscriber("crashed", {"TestHappened": [echo]})
        worker = await feed.subscription(subscriber, concurrency=2)
        task = asyncio.create_task(worker.run(asyncio.Event()))
        await eventually(lambda: _count_is(feed.store, 4), timeout=30, what="fast")
        task.cancel()  # a crash: no stop, the slow event never finishes
        await asyncio.wait([task])
        crashed.set()

        async with feed.running(subscriber, concurrency=2):
            await eventually(lambda: _count_is(feed.store, 5), timeout=30)
        echoes = await _echoes(feed.store)
        assert len({e.causation_id for e in echoes}) == len(echoes) == 5


async def test_kafka_records_fetched_later_do_not_wait_for_one_in_hand(
    pg_database: str, kafka_servers: str, topic_prefix: str
):
    store = SqlEventStore(create_engine(pg_database))
    feed = Feed(store, (kafka_servers, topic_prefix))
    slow, later = a_stream(), a_stream()
    await store.append(slow, [happened(0)], expected_version=0)
    in_hand, release, handled = asyncio.Event(), asyncio.Event(), []

    async def handler(envelope: Envelope) -> list[Output]:
        if envelope.stream_id == slow:
            in_hand.set()
            await release.wait()
        handled.append(envelope.stream_id)
        return []

    subscriber = Subscriber("pipelined", {"TestHappened": [handler]})
    try:
        async with feed.running(subscriber, concurrency=2):
            await asyncio.wait_for(in_hand.wait(), 30)
            await store.append(later, [happened(0)], expected_version=0)
            await feed.publish()  # fetched after the slow one's batch
            await eventually(lambda: handled == [later], timeout=30, what="later")
            release.set()
            await eventually(lambda: handled == [later, slow], what="the slow one")
    finally:
        await store.close()


async def test_kafka_records_do_not_wait_for_a_slow_redrive_lookup(
    pg_database: str, kafka_servers: str, topic_prefix: str
):
    """The lookup of parked messages to redrive (and the checkpoints' commit) runs
    beside the consumer loop: while it is slow, records fetched meanwhile are still
    handled. Under load it took up to a second, and records waited for it."""
    store = SqlEventStore(create_engine(pg_database))
    feed = Feed(store, (kafka_servers, topic_prefix))
    first, later = a_stream(), a_stream()
    await store.append(first, [happened(0)], expected_version=0)
    looking, release, handled = asyncio.Event(), asyncio.Event(), []
    lookup = store.parked

    async def slow_lookup(
        *, subscriber: str | None = None, status: str | None = "parked"
    ) -> list[ParkedMessage]:
        looking.set()
        await release.wait()
        return await lookup(subscriber=subscriber, status=status)

    store.parked = slow_lookup

    async def handler(envelope: Envelope) -> list[Output]:
        handled.append(envelope.stream_id)
        return []

    subscriber = Subscriber("unhindered", {"TestHappened": [handler]})
    try:
        async with feed.running(subscriber, concurrency=2):
            try:
                await eventually(lambda: handled == [first], timeout=30, what="first")
                await asyncio.wait_for(looking.wait(), 30)
                await store.append(later, [happened(0)], expected_version=0)
                await feed.publish()  # fetched while the lookup is under way
                await eventually(
                    lambda: handled == [first, later], timeout=30, what="later"
                )
            finally:
                release.set()
    finally:
        await store.close()


async def test_the_relay_creates_every_categorys_topic_as_it_starts(
    pg_database: str, kafka_servers: str, topic_prefix: str
):
    """Consumers subscribe by pattern: a topic that appeared with its first event
    would cost every consumer group a rebalance, with nothing handled meanwhile."""
    store = SqlEventStore(create_engine(pg_database))
    publisher = KafkaRelay(
        store, bootstrap_servers=kafka_servers, topic_prefix=topic_prefix
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_servers)
    await admin.start()

    async def ours() -> set[str]:
        return {t for t in await admin.list_topics() if t.startswith(topic_prefix)}

    wanted = {f"{topic_prefix}{category}" for category in Category}
    try:
        async with _running(publisher):
            await eventually(
                lambda: _equal(ours(), wanted), timeout=30, what="every topic"
            )
    finally:
        await admin.close()
        await store.close()


async def test_kafka_records_passed_by_move_every_partitions_checkpoint_on(
    pg_database: str, kafka_servers: str, topic_prefix: str
):
    """Records of types a subscriber does not handle are read past: each partition's
    checkpoint reaches its end, in the store and in Kafka's committed offsets (which
    lag monitoring reads), without a handler commit to carry it."""
    store = SqlEventStore(create_engine(pg_database))
    for stream in [a_stream() for _ in range(40)]:  # on all three partitions
        await store.append(
            stream, [NewEvent(event=TestEchoed(n=1))], expected_version=0
        )
    publisher = KafkaRelay(
        store, bootstrap_servers=kafka_servers, topic_prefix=topic_prefix, partitions=3
    )
    head = await store.head()

    async def published() -> bool:
        return await store.checkpoint(relay.NAME, relay.PARTITION) >= head

    async with _running(publisher):
        await eventually(published, timeout=30, what="all on Kafka")
    topic = f"{topic_prefix}test"
    partitions = [TopicPartition(topic, p) for p in range(3)]
    reader = AIOKafkaConsumer(bootstrap_servers=kafka_servers)
    await reader.start()
    try:
        ends = await reader.end_offsets(partitions)
    finally:
        await reader.stop()
    assert sum(ends.values()) == 40 and min(ends.values()) > 0

    async def never(envelope: Envelope) -> list[Output]:
        raise AssertionError("not a type it handles")

    subscriber = Subscriber("passer-by", {"TestHappened": [never]})
    worker = KafkaSubscription(
        store,
        subscriber,
        bootstrap_servers=kafka_servers,
        topic_prefix=topic_prefix,
        group_prefix=topic_prefix,
    )

    async def checkpoints() -> dict[TopicPartition, int]:
        return {
            tp: await store.checkpoint("passer-by", f"{tp.topic}:{tp.partition}")
            for tp in partitions
        }

    try:
        async with _running(worker):
            await eventually(
                lambda: _equal(checkpoints(), ends), timeout=30, what="read past"
            )
        group = AIOKafkaConsumer(
            bootstrap_servers=kafka_servers, group_id=worker.group_id
        )
        await group.start()
        try:
            assert {tp: await group.committed(tp) for tp in partitions} == ends
        finally:
            await group.stop()
    finally:
        await store.close()


async def test_a_kafka_subscription_groups_under_its_prefix(
    pg_database: str, kafka_servers: str, topic_prefix: str
):
    """With a group prefix, a subscriber's consumer group is its own: a process of
    the same name elsewhere on the broker (another deployment, a test run) neither
    shares its partitions nor pauses it as it joins and leaves."""
    store = SqlEventStore(create_engine(pg_database))
    await store.append(a_stream(), [happened(0)], expected_version=0)
    feed = Feed(store, (kafka_servers, topic_prefix))
    await feed.publish()
    topic = TopicPartition(f"{topic_prefix}test", 0)
    handled: list[str] = []

    async def handler(envelope: Envelope) -> list[Output]:
        handled.append(envelope.stream_id)
        return []

    worker = KafkaSubscription(
        store,
        Subscriber("grouped", {"TestHappened": [handler]}),
        bootstrap_servers=kafka_servers,
        topic_prefix=topic_prefix,
        group_prefix=topic_prefix,
    )

    async def committed(group_id: str) -> int | None:
        group = AIOKafkaConsumer(bootstrap_servers=kafka_servers, group_id=group_id)
        await group.start()
        try:
            return await group.committed(topic)
        finally:
            await group.stop()

    try:
        async with _running(worker):
            await eventually(lambda: handled, timeout=30, what="handled")
            await eventually(
                lambda: _equal(committed(f"{topic_prefix}grouped"), 1),
                timeout=30,
                what="offsets committed under the prefixed group",
            )
        assert worker.group_id == f"{topic_prefix}grouped"
        assert await committed("grouped") is None
    finally:
        await store.close()


async def test_a_kafka_record_mangled_in_transit_is_parked_then_redriven(
    pg_database: str, kafka_servers: str, topic_prefix: str
):
    """A Lantern record mangled on its way through Kafka is not passed by as foreign:
    it is parked, the records after it flow, and a redrive reads the store's copy."""
    store = SqlEventStore(create_engine(pg_database))
    mangled, fine = a_stream(), a_stream()
    await store.append(mangled, [happened(1)], expected_version=0)
    await store.append(fine, [happened(2)], expected_version=0)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_servers)
    await producer.start()
    try:
        for envelope in await store.read_all():
            key, value, headers = to_message(envelope)
            body = b'{"n": 1' if envelope.stream_id == mangled else value
            topic = topic_for(envelope.stream_id, topic_prefix)
            await producer.send_and_wait(topic, body, key=key, headers=headers)
    finally:
        await producer.stop()
    fast = RetryPolicy(attempts=2, first_delay=0.001)
    worker = KafkaSubscription(
        store,
        echo_subscriber(store),
        bootstrap_servers=kafka_servers,
        topic_prefix=topic_prefix,
        group_prefix=topic_prefix,
        retry=fast,
    )
    try:
        async with _running(worker):
            [parked] = await eventually(
                lambda: store.parked(subscriber=NAME), timeout=30, what="parked"
            )
            await eventually(lambda: _count_is(store, 1), what="the next one echoed")
            await store.request_redrive([parked.id])
            await eventually(lambda: _count_is(store, 2), what="redriven")
        assert parked.event_type == "TestHappened"
        assert sorted(e.data["n"] for e in await _echoes(store)) == [1, 2]
    finally:
        await store.close()


async def _equal(actual: Awaitable[object], expected: object) -> bool:
    return await actual == expected


async def test_a_redrive_leaves_the_checkpoint_where_it_was(store: SqlEventStore):
    """Handled side by side, events below a parked one may still be due."""
    await store.append(a_stream(), [happened(i) for i in range(3)], expected_version=0)
    parked = (await store.read_all())[-1]
    park = Parking(NAME, parked, PARTITION, parked.position, 1, "ValueError")
    await store.commit(Commit(park=park))
    await store.request_redrive()

    await redrive_parked(store, echo_subscriber(store), RetryPolicy(), asyncio.Event())

    assert await _resolved(store)
    assert await store.checkpoint(NAME, PARTITION) == 0


async def _checkpoint_is(feed: Feed, name: str, position: int) -> bool:
    return await feed.checkpoint(name) == position


async def _count_is(store: SqlEventStore, n: int) -> bool:
    return len(await _echoes(store)) == n


async def _passed(store: SqlEventStore, position: int) -> bool:
    return await store.checkpoint(NAME, PARTITION) == position


async def _resolved(store: SqlEventStore) -> bool:
    return [p.status for p in await store.parked(status=None)] == ["resolved"]


def _worker(database: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.echo", "--database", database, *extra],
        env={**os.environ, "LANTERN_LOG_LEVEL": "warning"},
    )


async def _exit(process: subprocess.Popen[bytes], sig: int) -> int:
    process.send_signal(sig)
    return await asyncio.to_thread(process.wait, 30)


@pytest.mark.parametrize(
    ("transport", "concurrency"),
    [("store", 1), ("store", 4), ("kafka", 1), ("kafka", 4)],
    ids=["store", "store-side-by-side", "kafka", "kafka-side-by-side"],
)
async def test_worker_killed_mid_stream_appends_each_output_once(
    transport: str, concurrency: int, pg_database: str, request: pytest.FixtureRequest
):
    store = SqlEventStore(create_engine(pg_database))
    total = await _seed(store, streams=10, per_stream=40)
    extra: tuple[str, ...] = ("--concurrency", str(concurrency), "--pace", "0.005")
    relay_stop, relay_task = asyncio.Event(), None
    if transport == "kafka":
        servers = request.getfixturevalue("kafka_servers")
        prefix = request.getfixturevalue("topic_prefix")
        extra += ("--kafka", servers, "--prefix", prefix)
        relay = KafkaRelay(store, bootstrap_servers=servers, topic_prefix=prefix)
        relay_task = asyncio.create_task(relay.run(relay_stop))
    try:
        first = _worker(pg_database, *extra)
        await eventually(lambda: _at_least(store, 40), timeout=60, what="some echoes")
        assert await _exit(first, signal.SIGKILL) == -signal.SIGKILL
        assert len(await _echoes(store)) < total, "killed too late to prove anything"

        second = _worker(pg_database, *extra)
        await eventually(lambda: _at_least(store, total), timeout=90, what="all echoes")
        assert await _exit(second, signal.SIGTERM) == 0
    finally:
        relay_stop.set()
        if relay_task:
            await relay_task
        echoes = await _echoes(store)
        await store.close()

    assert len(echoes) == total
    assert len({e.causation_id for e in echoes}) == total


async def _at_least(store: SqlEventStore, n: int) -> bool:
    return len(await _echoes(store)) >= n
