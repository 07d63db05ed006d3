"""The store's contract, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import make_url, text

from events.envelope import NewEvent
from events.store import Append, Checkpoint, Commit, ConcurrencyError, Parking
from events.store.engine import APPEND_LOCK, create_engine, sqlite_writer
from events.store.sql import SqlEventStore
from events.store.writing import LOCK
from tests.builders import TestEchoed, TestHappened, a_stream, happened
from tests.waiting import eventually


class TestAppend:
    async def test_new_stream_is_read_back_in_version_order(self, store: SqlEventStore):
        stream = a_stream()
        recorded = await store.append(
            stream, [happened(1), happened(2)], expected_version=0
        )

        read = await store.read_stream(stream)

        assert [e.stream_version for e in read] == [1, 2]
        assert [e.event for e in read] == [TestHappened(n=1), TestHappened(n=2)]
        assert [e.position for e in read] == recorded.positions
        assert recorded.versions == {stream: 2}
        assert read[0].occurred_at.utcoffset() == timedelta(0)
        assert read[0].recorded_at.utcoffset() == timedelta(0)

    async def test_envelope_keeps_provenance(self, store: SqlEventStore):
        stream = a_stream()
        first = happened(1, actor="client:met-police")
        await store.append(stream, [first], expected_version=0)
        follow = happened(2, correlation_id=first.event_id, causation_id=first.event_id)
        await store.append(stream, [follow], expected_version=1)

        one, two = await store.read_stream(stream)

        assert one.correlation_id == first.event_id  # a new chain starts at itself
        assert one.actor == "client:met-police"
        assert two.causation_id == first.event_id
        assert two.correlation_id == first.event_id
        assert one.type == "TestHappened" and one.schema_version == 1

    async def test_stale_expected_version_is_a_conflict_and_writes_nothing(
        self, store: SqlEventStore
    ):
        stream = a_stream()
        await store.append(stream, [happened(1)], expected_version=0)

        with pytest.raises(ConcurrencyError) as caught:
            await store.append(stream, [happened(2)], expected_version=0)

        assert (caught.value.expected, caught.value.actual) == (0, 1)
        assert len(await store.read_stream(stream)) == 1

    async def test_any_version_appends_at_the_end(self, store: SqlEventStore):
        stream = a_stream()
        await store.append(stream, [happened(1)], expected_version=None)
        await store.append(stream, [happened(2)], expected_version=None)
        assert [e.stream_version for e in await store.read_stream(stream)] == [1, 2]

    async def test_same_event_ids_again_are_a_no_op(self, store: SqlEventStore):
        stream = a_stream()
        events = [happened(1), happened(2)]
        await store.append(stream, events, expected_version=0)

        again = await store.append(stream, events, expected_version=0)

        assert again.duplicate
        assert again.positions == []
        assert len(await store.read_stream(stream)) == 2

    async def test_a_commit_lands_whole_or_not_at_all(self, store: SqlEventStore):
        ok, stale = a_stream(), a_stream()
        await store.append(stale, [happened(1)], expected_version=0)
        commit = Commit(
            appends=[Append(ok, [happened(1)], 0), Append(stale, [happened(2)], 0)],
            checkpoint=Checkpoint("test", "store", 99),
        )

        with pytest.raises(ConcurrencyError):
            await store.commit(commit)

        assert await store.read_stream(ok) == []
        assert await store.checkpoint("test", "store") == 0

    async def test_concurrent_commits_conflict_alone(self, store: SqlEventStore):
        """Group commit batches concurrent appends; one conflict fails alone."""
        contested = a_stream()
        await store.append(contested, [happened(0)], expected_version=0)
        streams = [a_stream() for _ in range(20)]

        results = await asyncio.gather(
            *(store.append(s, [happened(1)], expected_version=0) for s in streams),
            store.append(contested, [happened(1)], expected_version=0),
            return_exceptions=True,
        )

        assert all(not isinstance(r, Exception) for r in results[:-1])
        assert isinstance(results[-1], ConcurrencyError)
        for stream in streams:
            assert len(await store.read_stream(stream)) == 1

    async def test_commits_queued_while_another_process_holds_the_lock_join_one_group(
        self, pg_store: SqlEventStore, pg_database: str
    ):
        """A group waiting for the append lock takes in the commits queued meanwhile:
        they then wait for one transaction of the other process, not for two."""
        other = create_engine(pg_database)
        streams = [a_stream() for _ in range(3)]
        try:
            async with other.connect() as conn:
                transaction = await conn.begin()
                await conn.execute(LOCK, {"key": APPEND_LOCK})  # another appender
                first = asyncio.ensure_future(
                    pg_store.append(streams[0], [happened(1)], expected_version=0)
                )
                waiting = text(  # in this database: other tests run beside this one
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND database ="
                    " (SELECT oid FROM pg_database WHERE datname = current_database())"
                )

                async def first_waits() -> bool:
                    return bool((await conn.execute(waiting)).scalar_one())

                await eventually(first_waits, what="the first group waits")
                later = [
                    asyncio.ensure_future(
                        pg_store.append(stream, [happened(1)], expected_version=0)
                    )
                    for stream in streams[1:]
                ]
                assert await first_waits()  # and the later ones are queued by now
                await transaction.commit()
            await asyncio.gather(first, *later)

            async with other.connect() as conn:
                transactions = await conn.execute(
                    text("SELECT DISTINCT xmin::text FROM events"
                         " WHERE stream_id = ANY(:streams)"),
                    {"streams": streams},
                )  # fmt: skip
                assert len(transactions.all()) == 1
        finally:
            await other.dispose()


class TestReadAll:
    async def test_pages_cover_everything_once_in_position_order(
        self, store: SqlEventStore
    ):
        streams = [a_stream() for _ in range(5)]
        await asyncio.gather(
            *(store.append(s, [happened(i) for i in range(7)], expected_version=0)
              for s in streams)
        )  # fmt: skip

        seen, after = [], 0
        while page := await store.read_all(after=after, limit=4):
            assert len(page) <= 4
            seen.extend(page)
            after = page[-1].position

        positions = [e.position for e in seen]
        assert positions == sorted(positions)
        assert len(set(positions)) == len(positions) == 35
        for stream in streams:
            versions = [e.stream_version for e in seen if e.stream_id == stream]
            assert versions == list(range(1, 8))

    async def test_a_page_builds_envelopes_only_of_the_types_asked_for(
        self, store: SqlEventStore
    ):
        echoed = NewEvent(event=TestEchoed(n=2))
        await store.append(
            a_stream(), [happened(1), echoed, happened(3)], expected_version=0
        )
        everything = await store.read_all()

        page = await store.read_page(after=0, limit=10, types={"TestEchoed"})
        nothing = await store.read_page(after=0, limit=2, types=())

        assert page.envelopes == [everything[1]]
        assert (page.read, page.last) == (3, everything[2].position)
        assert (nothing.envelopes, nothing.read) == ([], 2)
        assert nothing.last == everything[1].position
        empty = await store.read_page(after=page.last, limit=10)
        assert (empty.envelopes, empty.read, empty.last) == ([], 0, page.last)

    async def test_read_event_by_id(self, store: SqlEventStore):
        event = happened(5)
        await store.append(a_stream(), [event], expected_version=0)
        found = await store.read_event(event.event_id)
        assert found is not None and found.event == TestHappened(n=5)


class TestBookkeeping:
    async def test_checkpoint_only_moves_forward(self, store: SqlEventStore):
        await store.commit(Commit(checkpoint=Checkpoint("sub", "store", 10)))
        await store.commit(Commit(checkpoint=Checkpoint("sub", "store", 4)))
        assert await store.checkpoint("sub", "store") == 10
        assert await store.checkpoint("sub", "other") == 0

    async def test_parked_message_is_listed_redriven_and_resolved(
        self, store: SqlEventStore
    ):
        event = happened(13)
        await store.append(a_stream(), [event], expected_version=0)
        envelope = await store.read_event(event.event_id)
        assert envelope is not None
        park = Parking(
            "sub", envelope, "store", envelope.position, 3, "ValueError: boom"
        )
        await store.commit(Commit(checkpoint=Checkpoint("sub", "store", 1), park=park))

        [parked] = await store.parked(subscriber="sub")
        assert (parked.event_id, parked.error, parked.attempts) == (
            event.event_id, "ValueError: boom", 3,
        )  # fmt: skip
        assert await store.request_redrive([parked.id]) == 1
        assert [p.id for p in await store.parked(status="redrive")] == [parked.id]

        await store.commit(Commit(resolve_parked=parked.id))
        assert await store.parked(status="parked") == []
        assert [p.status for p in await store.parked(status=None)] == ["resolved"]


class TestChanges:
    async def test_a_commit_in_this_process_is_signalled(self, store: SqlEventStore):
        changed = store.changes()
        await store.append(a_stream(), [happened()], expected_version=0)
        assert changed.is_set()

    async def test_a_waiter_for_some_types_wakes_only_for_those(
        self, store: SqlEventStore
    ):
        """A subscriber does not read the log again for events it does not handle."""
        if store.engine.dialect.name == "postgresql":  # the listener, once started,
            started = store.changes()  # wakes everyone: not what is tested here
            await eventually(started.is_set, what="listening")
        echoes = store.changes(frozenset({TestEchoed.type_name}))
        happenings = store.changes(frozenset({TestHappened.type_name}))
        await store.append(a_stream(), [happened()], expected_version=0)
        assert happenings.is_set() and not echoes.is_set()
        echoed = NewEvent(event=TestEchoed(n=1))
        await store.append(a_stream(), [echoed], expected_version=0)
        assert echoes.is_set()

    async def test_what_a_commit_appends_is_handed_on_once_in_this_process(
        self, store: SqlEventStore
    ):
        """A worker acts on what another part of the process wrote, without reading
        it back: only what was appended, never a redelivery or a refused commit."""
        written = store.written(frozenset({TestHappened.type_name}))
        assert store.written(frozenset({TestHappened.type_name})) is written  # shared
        stream, first = a_stream(), happened(1)
        echoed = NewEvent(event=TestEchoed(n=1))
        await store.commit(Commit([Append(stream, [first, echoed], 0)]))
        await store.commit(Commit([Append(stream, [first, echoed], 0)]))  # again
        with pytest.raises(ConcurrencyError):
            await store.append(stream, [happened(2)], expected_version=0)
        [[handed]] = [written.get_nowait()]
        assert (handed.event_id, handed.stream_version) == (first.event_id, 1)
        assert written.empty()

    async def test_another_processs_commit_is_signalled_on_postgres(
        self, pg_store: SqlEventStore, pg_database: str
    ):
        """A separate relay or subscriber wakes at the commit, not at its poll,
        and only for the types it waits for: the notice names them."""
        other = SqlEventStore(create_engine(pg_database))
        try:
            started = other.changes()  # starts listening, and says so once
            await eventually(started.is_set, what="listening")
            changed = other.changes()
            echoes = other.changes(frozenset({TestEchoed.type_name}))
            happenings = other.changes(frozenset({TestHappened.type_name}))
            await pg_store.append(a_stream(), [happened()], expected_version=0)
            await eventually(changed.is_set, what="the other store told")
            assert happenings.is_set() and not echoes.is_set()
        finally:
            await other.close()


def test_a_sqlite_write_transaction_holds_the_write_lock_from_begin(
    sqlite_database: str,
):
    """Two processes writing one SQLite file queue at BEGIN: a writer that took the
    lock only at its first write could find its snapshot stale and fail."""
    writer = sqlite_writer(create_engine(sqlite_database))
    path = make_url(sqlite_database).database
    assert path is not None
    other = sqlite3.connect(path, timeout=0)
    other.isolation_level = None
    try:
        with (
            writer.connect() as conn,
            conn.begin(),
            pytest.raises(sqlite3.OperationalError, match="locked"),
        ):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free once it committed
        other.execute("ROLLBACK")
    finally:
        other.close()
        writer.dispose()
