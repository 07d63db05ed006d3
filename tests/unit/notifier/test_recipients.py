"""The recipients directory's rules and its CSV: one row per rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from events.contracts.recipients import RecipientKind, RecipientRecorded
from services.notifier.recipients.csv import COLUMNS, parse_recipients
from services.notifier.recipients.entries import checked, clashes, directory_of
from services.notifier.routing import Contact

CODES = frozenset({"886", "202"})
NO_HOSTS: frozenset[str] = frozenset()
DEMO = Path(__file__).parents[3] / "deploy" / "demo" / "recipients.csv"


def entry(recipient_id: str = "r1", **changes: Any) -> RecipientRecorded:
    base = {"kind": "duty_team", "name": "Duty team", "email": "duty@council.example"}
    return RecipientRecorded.model_validate(
        {"recipient_id": recipient_id, **base, **changes}
    )


def problems(**changes: Any) -> list[tuple[str, str]]:
    return checked(entry(**changes), CODES, NO_HOSTS)[1]


class TestChecked:
    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            pytest.param({"key": "x"}, "key", id="duty team has no key"),
            pytest.param({"kind": "out_of_hours", "key": "1"}, "key",
                         id="out of hours has no key"),
            pytest.param({"kind": "la_contact"}, "key", id="LA contact needs a code"),
            pytest.param({"kind": "la_contact", "key": "999"}, "key",
                         id="LA code must be known"),
            pytest.param({"kind": "team_manager", "key": "  "}, "key",
                         id="team manager needs the team"),
            pytest.param({"kind": "escalation", "key": "0"}, "key",
                         id="escalation steps start at 1"),
            pytest.param({"kind": "escalation", "key": "first"}, "key",
                         id="escalation step is a number"),
            pytest.param({"kind": "escalation", "key": "²"}, "key",
                         id="escalation step is an ASCII number"),
            pytest.param({"email": None}, "email", id="at least one address"),
            pytest.param({"email": "duty.council.example"}, "email",
                         id="e-mail needs an @"),
            pytest.param({"email": "duty@council"}, "email",
                         id="e-mail needs a domain"),
            pytest.param({"email": "a b@council.example"}, "email",
                         id="e-mail has no spaces"),
            pytest.param({"phone": "01632 960000"}, "phone",
                         id="a landline gets no SMS"),
            pytest.param({"phone": "+33 612345678"}, "phone", id="UK numbers only"),
            pytest.param({"phone": "0770090000"}, "phone", id="11 digits"),
            pytest.param({"webhook_url": "ftp://mcet.example/x"}, "webhook_url",
                         id="webhook is http(s)"),
            pytest.param({"webhook_url": "https:///path"}, "webhook_url",
                         id="webhook has a host"),
            pytest.param({"webhook_url": "https://[::1/x"}, "webhook_url",
                         id="webhook URL parses"),
            pytest.param({"webhook_url": "http://169.254.169.254/latest"},
                         "webhook_url", id="webhook to a public host only"),
            pytest.param({"name": " "}, "name", id="name is not blank"),
        ],
    )  # fmt: skip
    def test_refused_naming_the_field(self, changes: dict[str, Any], field: str):
        assert [f for f, _ in problems(**changes)] == [field]

    @pytest.mark.parametrize(
        "changes",
        [
            {"kind": "mcet"},
            {"kind": "mcet", "key": "Maidstone"},
            {"kind": "la_contact", "key": "202"},
            {"kind": "team_manager", "key": "CiC West"},
            {"kind": "escalation", "key": "2"},
            {"email": None, "phone": "07700 900123"},
            {"email": None, "webhook_url": "https://mcet.police.example/lantern"},
        ],
    )
    def test_accepted(self, changes: dict[str, Any]):
        assert problems(**changes) == []

    def test_a_webhook_host_on_the_allow_list_is_accepted(self):
        loopback = entry(email=None, webhook_url="http://127.0.0.1:8300/mcet")
        assert checked(loopback, CODES, NO_HOSTS)[1] == [
            ("webhook_url", "must be https")
        ]
        assert checked(loopback, CODES, frozenset({"127.0.0.1"}))[1] == []

    def test_stored_normalised(self):
        given = entry(
            kind="escalation", key=" 02 ", name=" Head ", email=" h@c.example",
            phone="07700 900 123", webhook_url="",
        )  # fmt: skip
        stored, found = checked(given, CODES, NO_HOSTS)
        assert found == []
        assert (stored.key, stored.name, stored.email) == ("2", "Head", "h@c.example")
        assert (stored.phone, stored.webhook_url) == ("+447700900123", None)

    def test_international_form_is_stored_too(self):
        stored, _ = checked(entry(phone="+44 7700 900123"), CODES, NO_HOSTS)
        assert stored.phone == "+447700900123"

    def test_blank_key_is_none(self):
        assert checked(entry(kind="mcet", key=" "), CODES, NO_HOSTS)[0].key is None


class TestClashes:
    def test_a_place_held_by_another_recipient_is_refused(self):
        reason = "recipient 'duty' already holds duty_team: change or remove it"
        assert clashes([entry("duty")], [entry("duty-2")]) == [(0, ("kind", reason))]

    def test_keyed_places_name_the_key(self):
        held = entry("m1", kind="mcet", key="Maidstone")
        [(_, (field, reason))] = clashes(
            [held], [held.model_copy(update={"recipient_id": "m2"})]
        )
        assert field == "key"
        assert reason.startswith("recipient 'm1' already holds mcet:Maidstone")

    def test_each_district_code_team_and_step_is_its_own_place(self):
        existing = [
            entry("m", kind="mcet"), entry("m1", kind="mcet", key="Maidstone"),
            entry("e1", kind="escalation", key="1"),
            entry("la", kind="la_contact", key="202"),
        ]  # fmt: skip
        incoming = [
            entry("m2", kind="mcet", key="Dover"),
            entry("e2", kind="escalation", key="2"),
            entry("la2", kind="la_contact", key="886"),
        ]
        assert clashes(existing, incoming) == []

    def test_a_recipient_may_be_recorded_again_in_its_own_place(self):
        assert clashes([entry("duty")], [entry("duty", name="Renamed")]) == []

    def test_a_moved_recipient_frees_its_place_for_later_entries(self):
        existing = [entry("e1", kind="escalation", key="1")]
        incoming = [
            entry("e1", kind="escalation", key="3"),
            entry("e0", kind="escalation", key="1"),
        ]
        assert clashes(existing, incoming) == []

    def test_a_swap_in_one_go_is_refused_as_each_entry_is_recorded_in_turn(self):
        existing = [
            entry("a", kind="escalation", key="1"),
            entry("b", kind="escalation", key="2"),
        ]
        incoming = [
            entry("a", kind="escalation", key="2"),
            entry("b", kind="escalation", key="1"),
        ]
        assert [index for index, _ in clashes(existing, incoming)] == [0, 1]

    def test_clashes_within_the_incoming_entries(self):
        assert [i for i, _ in clashes([], [entry("a"), entry("b")])] == [1]


def test_directory_puts_each_entry_in_its_routing_role():
    directory = directory_of(
        [
            entry("duty"), entry("ooh", kind="out_of_hours", phone="+447700900001"),
            entry("m", kind="mcet"), entry("m1", kind="mcet", key="Maidstone"),
            entry("la", kind="la_contact", key="202"),
            entry("tm", kind="team_manager", key="CiC West"),
            entry("e10", kind="escalation", key="10"),
            entry("e2", kind="escalation", key="2"),
        ]
    )  # fmt: skip
    assert directory.duty_team == Contact("duty", email="duty@council.example")
    assert directory.out_of_hours == Contact(
        "ooh", email="duty@council.example", phone="+447700900001"
    )
    assert directory.mcet_default and directory.mcet_default.recipient_id == "m"
    assert list(directory.mcet_by_district) == ["Maidstone"]
    assert list(directory.la_contacts) == ["202"]
    assert list(directory.team_managers) == ["CiC West"]
    assert [c.recipient_id for c in directory.escalation] == ["e2", "e10"]


def test_empty_directory_has_nobody():
    directory = directory_of([])
    assert directory.duty_team is None and directory.mcet_default is None
    assert directory.escalation == ()


ROW = {
    "recipient_id": "duty", "kind": "duty_team", "name": "Duty team",
    "email": "duty@council.example",
}  # fmt: skip


def csv_lines(*rows: dict[str, str], columns: tuple[str, ...] = COLUMNS) -> list[str]:
    return [",".join(columns)] + [",".join(r.get(c, "") for c in columns) for r in rows]


class TestCsv:
    def test_every_row_becomes_an_entry(self):
        mcet = {**ROW, "recipient_id": "mcet", "kind": "mcet", "phone": "07700 900123"}
        entries, found = parse_recipients(csv_lines(ROW, mcet), CODES, [], NO_HOSTS)
        assert found == []
        assert [e.recipient_id for e in entries] == ["duty", "mcet"]
        assert entries[1].key is None and entries[1].phone == "+447700900123"

    def test_one_bad_row_gives_no_entries_and_names_line_and_field(self):
        bad = {**ROW, "recipient_id": "la", "kind": "la_contact", "key": "999"}
        entries, found = parse_recipients(csv_lines(ROW, bad), CODES, [], NO_HOSTS)
        assert entries == []
        assert found == ["line 3: key: is not a known local authority code"]

    def test_missing_columns_are_named(self):
        lines = csv_lines(ROW, columns=COLUMNS[:-2])
        assert parse_recipients(lines, CODES, [], NO_HOSTS)[1] == [
            "line 1: missing columns: phone, webhook_url"
        ]

    def test_unknown_kind_and_bad_id_are_named(self):
        bad = {**ROW, "recipient_id": "no:colons", "kind": "police"}
        found = parse_recipients(csv_lines(bad), CODES, [], NO_HOSTS)[1]
        assert [p.split(":")[:2] for p in found] == [
            ["line 2", " recipient_id"],
            ["line 2", " kind"],
        ]

    def test_an_id_twice_is_refused(self):
        found = parse_recipients(csv_lines(ROW, ROW), CODES, [], NO_HOSTS)[1]
        assert found == ["line 3: recipient_id: is on line 2 too"]

    def test_a_row_with_more_cells_than_the_header_is_refused(self):
        lines = [*csv_lines(ROW), "x,duty_team,,Duty, West,duty@council.example,,"]
        assert parse_recipients(lines, CODES, [], NO_HOSTS)[1] == [
            "line 3: row: has more cells than the header (quote commas)"
        ]

    def test_a_place_already_held_names_the_line(self):
        holder = entry("duty-old")
        found = parse_recipients(csv_lines(ROW), CODES, [holder], NO_HOSTS)[1]
        assert found == [
            "line 2: kind: recipient 'duty-old' already holds duty_team:"
            " change or remove it"
        ]

    def test_the_demo_file_is_valid_with_its_receiver_allowed(self):
        """The demo's webhooks go to `lantern webhooks receive` on loopback: the
        README's Try it sets LANTERN_CHANNELS__WEBHOOK__ALLOWED_HOSTS=127.0.0.1."""
        with DEMO.open(encoding="utf-8") as f:
            entries, found = parse_recipients(f, CODES, [], frozenset({"127.0.0.1"}))
        assert found == []
        kinds = {e.kind for e in entries}
        assert kinds == set(RecipientKind)
