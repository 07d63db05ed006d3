"""What a webhook subscription may receive, and what it receives of it."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

import events.contracts  # noqa: F401  (registers every event type)
from events.registry import event_types
from services.outbound.signing import sign, verify_signature
from services.webhooks.rules import (
    NEVER,
    WITHHELD,
    backoff,
    cloudevent,
    least_data,
    subscribable,
    unknown_types,
    whose_child,
)

SECRET = "a-subscription-secret-0123456789abcdef"


def test_notes_and_contact_details_are_never_subscribable():
    allowed = subscribable(event_types())
    assert "ReturnInterviewNotesRecorded" not in allowed
    assert "RecipientRecorded" not in allowed
    assert {"MissingReported", "AlertRaised", "ChildRecorded"} <= allowed


def test_every_type_the_rules_name_is_registered():
    """A renamed type must not slip out of the rules unnoticed."""
    assert set(NEVER) | set(WITHHELD) <= set(event_types())


def test_unknown_types_are_named_in_order():
    allowed = frozenset({"A", "B"})
    assert unknown_types(["B", "X", "A", "Y"], allowed) == ["X", "Y"]


def test_contacts_are_withheld():
    data = {"alert_id": "a", "contact": {"email": "sw@council.example"}}
    assert least_data("AlertRaised", data) == {"alert_id": "a"}
    child = {"la_child_id": "C1", "social_worker": {}, "team": {}, "uasc": False}
    assert least_data("ChildRecorded", child) == {"la_child_id": "C1", "uasc": False}
    assert least_data("ChildFound", {"x": 1}) == {"x": 1}


def test_a_cloudevent_carries_the_attributes_and_the_least_data():
    event_id = uuid4()
    at = datetime(2026, 11, 20, 21, 40, tzinfo=UTC)
    document = cloudevent(
        event_id=event_id, type_name="AlertRaised", stream_id="alert-1",
        position=7, schema_version=1, occurred_at=at,
        data={"alert_id": "1", "contact": {"phone": "07700900123"}},
    )  # fmt: skip
    assert document["specversion"] == "1.0"
    assert document["id"] == str(event_id)
    assert document["time"] == "2026-11-20T21:40:00+00:00"
    assert document["data"] == {"alert_id": "1"}


@pytest.mark.parametrize(
    ("stream", "where"),
    [
        ("episode-e1", ("episode", "e1")),
        ("interview-e1", ("episode", "e1")),
        ("alert-a1", ("alert", "a1")),
        ("child-C1", ("child", "C1")),
        ("recipient-duty", None),
    ],
)
def test_whose_child_a_stream_is_about(stream: str, where: tuple[str, str] | None):
    assert whose_child(stream) == where


def test_backoff_grows_within_its_ceiling():
    for attempt in range(40):
        assert 0 <= backoff(attempt, 1.0, 300.0) <= min(300.0, 2.0**attempt)


def test_the_signature_is_the_alert_webhooks():
    body = b'{"id":"1"}'
    header = sign(SECRET, body, timestamp=1_800_000_000)
    assert verify_signature(SECRET, header, body, now=1_800_000_000)
    assert not verify_signature(SECRET, header, body + b" ", now=1_800_000_000)
