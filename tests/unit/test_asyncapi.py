"""The AsyncAPI document (events/asyncapi.py) and the snapshot that guards the
published payload schemas. The real AsyncAPI parser runs in
tests/integration/test_asyncapi_parser.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from events import asyncapi
from events.asyncapi import (
    asyncapi_document,
    contract_types,
    current_schemas,
    published_document,
    read_snapshot,
)
from events.cloudevents import HEADERS, OPTIONAL_HEADERS, to_message
from events.compatibility import breaking_changes
from events.contracts import CATEGORIES
from events.envelope import Envelope
from events.registry import event_types
from services.cli import app as cli

ALL_VERSIONS = {
    f"{name}.v{version}"
    for name, cls in contract_types().items()
    for version in range(1, cls.schema_version + 1)
}


class TestDocument:
    def test_every_contract_type_and_version_is_a_message(self):
        document = published_document("lantern.")
        assert set(document["components"]["messages"]) == ALL_VERSIONS
        assert {"ChildRecorded.v1", "ChildRecorded.v2", "RiskAssessed.v1"} <= (
            ALL_VERSIONS
        )

    def test_every_event_type_lantern_defines_is_published(self):
        ours = {
            n for n, c in event_types().items() if c.__module__.startswith("events")
        }
        assert ours == set(contract_types())

    def test_each_message_is_on_its_categorys_topic(self):
        document = published_document("council.")
        episode = document["channels"]["episode"]
        assert episode["address"] == "council.episode"
        assert episode["bindings"]["kafka"]["topic"] == "council.episode"
        assert "MissingReported.v1" in episode["messages"]
        assert "RiskAssessed.v2" in episode["messages"]
        assert "AlertRaised.v1" in document["channels"]["alert"]["messages"]
        assert set(document["channels"]) == {c.value for c in CATEGORIES.values()}

    def test_the_key_is_the_stream_id_and_ordering_is_said(self):
        document = published_document("lantern.")
        message = document["components"]["messages"]["ChildRecorded.v2"]
        assert message["bindings"]["kafka"]["key"]["pattern"] == "^child-"
        assert "one partition" in document["channels"]["child"]["description"]

    def test_headers_are_what_the_relay_writes(self):
        now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
        envelope = Envelope(
            event_id=uuid4(), stream_id="episode-1", stream_version=1, position=1,
            type="MissingReported", schema_version=1, data={}, occurred_at=now,
            recorded_at=now, correlation_id=uuid4(), causation_id=uuid4(),
            actor="intake", trace_context=f"00-{'a' * 32}-{'b' * 16}-01;lantern=1",
        )  # fmt: skip
        _, _, headers = to_message(envelope)
        assert [name for name, _ in headers] == list(HEADERS)
        bare = envelope._replace(causation_id=None, trace_context=None)
        _, _, without_cause = to_message(bare)
        schema = published_document("lantern.")["components"]["schemas"]
        required = schema["CloudEventsHeaders"]["required"]
        assert set(required) == {name for name, _ in without_cause}
        assert set(HEADERS) - set(required) == OPTIONAL_HEADERS

    def test_payload_definitions_live_beside_the_payload(self):
        text = json.dumps(published_document("lantern."))
        assert "#/$defs/" not in text
        schemas = published_document("lantern.")["components"]["schemas"]
        child = schemas["MissingReported.v1"]["properties"]["child"]
        assert child == {"$ref": "#/components/schemas/MissingReported.v1.Child"}
        assert "MissingReported.v1.Child" in schemas

    def test_an_older_version_has_the_schema_it_was_published_with(self):
        schemas = published_document("lantern.")["components"]["schemas"]
        factor = schemas["RiskAssessed.v1.Factor"]["properties"]
        assert "exploitation" not in factor
        assert "exploitation" in schemas["RiskAssessed.v2.Factor"]["properties"]

    def test_the_version_changes_with_the_contracts_only(self):
        types, earlier = contract_types(), read_snapshot()
        version = asyncapi_document(types, earlier=earlier)["info"]["version"]
        again = asyncapi_document(types, earlier=earlier, topic_prefix="x.")
        assert again["info"]["version"] == version
        fewer = {k: v for k, v in types.items() if k != "ChildFound"}
        assert asyncapi_document(fewer, earlier=earlier)["info"]["version"] != version
        older = {**earlier, "ChildRecorded.v1": {"type": "object"}}
        assert asyncapi_document(types, earlier=older)["info"]["version"] != version
        assert "ChildRecorded@v2" in again["info"]["x-lantern-contracts"]


class TestSnapshot:
    def test_no_published_payload_schema_is_broken(self):
        problems = breaking_changes(read_snapshot(), current_schemas(contract_types()))
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)

    def test_the_snapshot_holds_every_current_schema(self):
        published, current = read_snapshot(), current_schemas(contract_types())
        stale = sorted(k for k, v in current.items() if published.get(k) != v)
        assert not stale, (
            f"not in the snapshot yet: {stale}. Unless the test above names them as"
            " breaking, record them with `lantern events asyncapi --update-snapshot`"
            " and commit the file"
        )

    def test_every_version_still_on_the_topics_has_its_schema(self):
        missing = ALL_VERSIONS - set(read_snapshot())
        assert not missing, (
            f"not in the snapshot: {sorted(missing)}; the document can only say"
            " `object` for an older version it does not hold"
        )


class TestCommand:
    def test_writes_the_document(self, tmp_path: Path):
        out = tmp_path / "asyncapi.json"
        done = CliRunner().invoke(cli, ["events", "asyncapi", "--out", str(out)])
        assert done.exit_code == 0, done.output
        assert json.loads(out.read_text()) == published_document("lantern.")

    def test_update_snapshot_records_additions(self, tmp_path, monkeypatch):
        snapshot = tmp_path / "schemas.snapshot.json"
        published = read_snapshot()
        del published["ChildFound.v1"]
        snapshot.write_text(json.dumps(published))
        monkeypatch.setattr(asyncapi, "SNAPSHOT", snapshot)
        done = CliRunner().invoke(cli, ["events", "asyncapi", "--update-snapshot"])
        assert done.exit_code == 0, done.output
        assert "ChildFound.v1" in done.output
        assert read_snapshot(snapshot) == read_snapshot()

    def test_update_snapshot_refuses_a_breaking_change(self, tmp_path, monkeypatch):
        snapshot = tmp_path / "schemas.snapshot.json"
        published = read_snapshot()
        published["ChildFound.v1"]["properties"]["shoe_size"] = {"type": "integer"}
        snapshot.write_text(json.dumps(published))
        monkeypatch.setattr(asyncapi, "SNAPSHOT", snapshot)
        done = CliRunner().invoke(cli, ["events", "asyncapi", "--update-snapshot"])
        assert done.exit_code == 1
        assert "ChildFound v1: field `shoe_size` was removed: raise the contract's" in (
            done.output
        )
        assert json.loads(snapshot.read_text()) == published
