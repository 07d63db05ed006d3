"""The recipients directory on SQLite and PostgreSQL: the read model kept from its
events, routing's Directory read from it, and the integrators' API over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from events.contracts.recipients import RecipientRecorded, RecipientRemoved
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from events.streams import Category, stream_name
from services.notifier.recipients.projector import (
    RecipientsProjector,
    SlotTakenError,
    list_recipients,
    load_directory,
    record,
)
from services.notifier.routing import Contact
from tests.api import Api, serve_api


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

        directory = await load_directory(store)

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
        assert await list_recipients(store) == [renamed]

        await record(store, [RecipientRemoved(recipient_id="duty")], actor="test")

        assert (await load_directory(store)).duty_team is None
        assert (
            len(await store.read_stream(stream_name(Category.recipient, "duty"))) == 3
        )

    async def test_a_moved_recipient_frees_its_place(self, store: SqlEventStore):
        await record(store, [entry("a", "escalation", "1")], actor="test")
        moves = [entry("a", "escalation", "3"), entry("b", "escalation", "1")]
        await record(store, moves, actor="test")
        steps = (await load_directory(store)).escalation
        assert [c.recipient_id for c in steps] == ["b", "a"]

    async def test_a_taken_place_refuses_the_whole_change(self, store: SqlEventStore):
        await record(store, [entry("duty", "duty_team")], actor="test")
        with pytest.raises(SlotTakenError):
            await record(
                store, [entry("ooh", "out_of_hours"), entry("d2", "duty_team")],
                actor="test",
            )  # fmt: skip
        assert [e.recipient_id for e in await list_recipients(store)] == ["duty"]
        assert await store.read_stream(stream_name(Category.recipient, "ooh")) == []

    async def test_rebuild_gives_the_same_directory(self, store: SqlEventStore):
        await record(
            store, [entry("a", "escalation", "1"), entry("m", "mcet")], actor="test"
        )
        await record(store, [entry("a", "escalation", "2")], actor="test")
        await record(store, [RecipientRemoved(recipient_id="m")], actor="test")
        before = await list_recipients(store)

        await store.rebuild_projections()

        assert await list_recipients(store) == before


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with serve_api(database_url) as api:
        yield api


MCET: dict[str, Any] = {
    "kind": "mcet",
    "key": "Maidstone",
    "name": "MCET West",
    "email": "mcet.west@police.example",
    "phone": "07700 900123",
}


async def put(api: Api, recipient_id: str, body: Any, client: str = "cms") -> Any:
    return await api.http.put(
        f"/v1/recipients/{recipient_id}", json=body, headers=api.auth(client)
    )


async def recorded(api: Api) -> int:
    return len(await api.store.read_all())


class TestApi:
    async def test_created_then_updated_then_unchanged(self, api: Api):
        created = await put(api, "mcet-west", MCET)
        assert created.status_code == 201, created.text
        assert created.json() == {
            **MCET, "recipient_id": "mcet-west", "phone": "+447700900123",
            "webhook_url": None,
        }  # fmt: skip
        assert (
            await put(api, "mcet-west", {**MCET, "name": "West"})
        ).status_code == 200
        assert (
            await put(api, "mcet-west", {**MCET, "name": "West"})
        ).status_code == 200

        [first, _] = await api.store.read_stream(
            stream_name(Category.recipient, "mcet-west")
        )
        assert first.actor == "client:cms"
        listed = (await api.http.get("/v1/recipients", headers=api.auth("cms"))).json()
        assert [(r["recipient_id"], r["name"]) for r in listed] == [
            ("mcet-west", "West")
        ]

    async def test_removed_then_unknown(self, api: Api):
        await put(api, "mcet-west", MCET)
        url, auth = "/v1/recipients/mcet-west", api.auth("cms")
        removed = await api.http.delete(url, headers=auth)
        assert (removed.status_code, removed.content) == (204, b"")
        assert (await api.http.delete(url, headers=auth)).status_code == 404
        assert (await api.http.get("/v1/recipients", headers=auth)).json() == []

    async def test_a_token_is_required(self, api: Api):
        assert (await api.http.get("/v1/recipients")).status_code == 401
        response = await api.http.put("/v1/recipients/x", json=MCET)
        assert response.status_code == 401
        assert (await api.http.delete("/v1/recipients/x")).status_code == 401

    async def test_police_clients_may_not_read_or_change_it(self, api: Api):
        await put(api, "mcet-west", MCET)
        before = await recorded(api)
        assert (await api.get("/v1/recipients", client="kent")).status_code == 403
        assert (await put(api, "mcet-2", MCET, client="kent")).status_code == 403
        deleted = await api.http.delete(
            "/v1/recipients/mcet-west", headers=api.auth("kent")
        )
        assert deleted.status_code == 403
        assert await recorded(api) == before

    @pytest.mark.parametrize(
        ("body", "fields"),
        [
            ({**MCET, "kind": "la_contact", "key": "999"}, ["key"]),
            ({**MCET, "email": "nobody", "phone": "01632 960000"}, ["email", "phone"]),
            ({**MCET, "webhook_url": "file:///etc/passwd"}, ["webhook_url"]),
            ({**MCET, "kind": "duty_team"}, ["key"]),
            ({**MCET, "kind": "boss"}, ["kind"]),
            ({**MCET, "colour": "red"}, ["colour"]),
            ({k: v for k, v in MCET.items() if k != "name"}, ["name"]),
        ],
    )
    async def test_bad_input_is_422_naming_fields_and_records_nothing(
        self, api: Api, body: dict[str, Any], fields: list[str]
    ):
        response = await put(api, "r1", body)
        assert response.status_code == 422
        assert [p["field"] for p in response.json()["detail"]] == fields
        assert await recorded(api) == 0

    @pytest.mark.parametrize(
        ("url", "why"),
        [
            ("http://169.254.169.254/latest/meta-data", "must be https"),
            ("https://169.254.169.254/latest/meta-data", "must name a public host"),
            ("https://10.0.0.8/lantern", "must name a public host"),
            ("https://db.internal/lantern", "must name a public host"),
            ("https://cms:secret@hooks.partner.example/", "must not carry credentials"),
            ("http://hooks.partner.example/lantern", "must be https"),
        ],
    )
    async def test_a_webhook_may_only_reach_public_hosts_over_https(
        self, api: Api, url: str, why: str
    ):
        response = await put(api, "r1", {**MCET, "webhook_url": url})
        assert response.status_code == 422
        [problem] = response.json()["detail"]
        assert problem["field"] == "webhook_url" and why in problem["reason"]
        assert await recorded(api) == 0

    async def test_a_webhook_host_on_the_allow_list_may_be_loopback(self, api: Api):
        """The tests' settings allow 127.0.0.1, as the demo's do."""
        body = {**MCET, "webhook_url": "http://127.0.0.1:9000/mcet"}
        assert (await put(api, "r1", body)).status_code == 201

    async def test_a_bad_id_is_422_naming_it(self, api: Api):
        response = await put(api, "no:colons", MCET)
        assert response.status_code == 422
        assert [p["field"] for p in response.json()["detail"]] == ["recipient_id"]

    async def test_a_place_held_by_another_recipient_is_409(self, api: Api):
        await put(api, "mcet-west", MCET)
        response = await put(api, "mcet-2", MCET)
        assert response.status_code == 409
        [problem] = response.json()["detail"]
        assert problem["field"] == "key"
        assert "'mcet-west' already holds mcet:Maidstone" in problem["reason"]
        assert await recorded(api) == 1

    async def test_racing_for_one_place_records_one(self, api: Api):
        responses = await asyncio.gather(
            *(put(api, f"mcet-{n}", MCET) for n in range(6))
        )
        assert sorted(r.status_code for r in responses) == [201] + [409] * 5
        assert await recorded(api) == 1

    async def test_the_openapi_document_has_an_example(self, api: Api):
        spec = (await api.http.get("/openapi.json")).json()
        body = spec["components"]["schemas"]["RecipientPut"]
        assert body["examples"][0]["kind"] == "mcet"
        assert (
            "201" in spec["paths"]["/v1/recipients/{recipient_id}"]["put"]["responses"]
        )
