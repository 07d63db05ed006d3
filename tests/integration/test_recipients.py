"""The recipients directory on SQLite and PostgreSQL: the read model kept from its
events, and routing's Directory read from it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from events.contracts.recipients import RecipientRecorded, RecipientRemoved
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from services.notifier.directory.projector import (
    RecipientsProjector,
    SlotTakenError,
    list_recipients,
    load_directory,
    recipient_stream,
    record,
)
from services.notifier.routing import Contact


def entry(recipient_id: str, kind: str, key: str | None = None) -> RecipientRecorded:
    return RecipientRecorded.model_validate(
        {
            "recipient_id": recipient_id,
            "kind": kind,
            "key": key,
            "name": f"{recipient_id} (test)",
            "email": f"{recipient_id}@council.example",
        }
    )


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlEventStore]:
    store = SqlEventStore(
        create_engine(database_url), projectors=[RecipientsProjector()]
    )
    yield store
    await store.close()


class TestReadModel:
    async def test_directory_is_read_into_routing_roles(self, store: SqlEventStore):
        await record(
            store,
            [
                entry("duty", "duty_team"), entry("mcet", "mcet"),
                entry("mcet-w", "mcet", "Maidstone"), entry("la", "la_contact", "202"),
                entry("e2", "escalation", "2"), entry("e1", "escalation", "1"),
            ],
            actor="test",
        )  # fmt: skip

        directory = await load_directory(store.engine)

        assert directory.duty_team == Contact("duty", email="duty@council.example")
        assert directory.out_of_hours is None
        assert directory.mcet_by_district["Maidstone"].recipient_id == "mcet-w"
        assert directory.la_contacts["202"].recipient_id == "la"
        assert [c.recipient_id for c in directory.escalation] == ["e1", "e2"]

    async def test_latest_entry_wins_and_removal_empties_the_place(
        self, store: SqlEventStore
    ):
        await record(store, [entry("duty", "duty_team")], actor="test")
        renamed = entry("duty", "duty_team").model_copy(update={"name": "Renamed"})
        await record(store, [renamed], actor="test")
        assert await list_recipients(store.engine) == [renamed]

        await record(store, [RecipientRemoved(recipient_id="duty")], actor="test")

        assert (await load_directory(store.engine)).duty_team is None
        assert len(await store.read_stream(recipient_stream("duty"))) == 3

    async def test_a_moved_recipient_frees_its_place(self, store: SqlEventStore):
        await record(store, [entry("a", "escalation", "1")], actor="test")
        moves = [entry("a", "escalation", "3"), entry("b", "escalation", "1")]
        await record(store, moves, actor="test")
        steps = (await load_directory(store.engine)).escalation
        assert [c.recipient_id for c in steps] == ["b", "a"]

    async def test_a_taken_place_refuses_the_whole_change(self, store: SqlEventStore):
        await record(store, [entry("duty", "duty_team")], actor="test")
        with pytest.raises(SlotTakenError):
            await record(
                store, [entry("ooh", "out_of_hours"), entry("d2", "duty_team")],
                actor="test",
            )  # fmt: skip
        assert [e.recipient_id for e in await list_recipients(store.engine)] == ["duty"]
        assert await store.read_stream(recipient_stream("ooh")) == []

    async def test_rebuild_gives_the_same_directory(self, store: SqlEventStore):
        await record(
            store, [entry("a", "escalation", "1"), entry("m", "mcet")], actor="test"
        )
        await record(store, [entry("a", "escalation", "2")], actor="test")
        await record(store, [RecipientRemoved(recipient_id="m")], actor="test")
        before = await list_recipients(store.engine)

        await store.rebuild_projections()

        assert await list_recipients(store.engine) == before
