"""The Now page's words: how long open, the child's short name, masked contacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifier.now import open_for, short_name, told
from services.notifier.pages import mask_email, mask_phone, mask_url

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_how_long_open_in_whole_minutes():
    assert open_for(AT, AT + timedelta(seconds=59)) == "open under 1 min"
    assert open_for(AT, AT + timedelta(minutes=7, seconds=59)) == "open 7 min"
    assert open_for(AT, AT + timedelta(hours=2, minutes=14)) == "open 2 h 14 min"
    assert open_for(AT, AT + timedelta(days=1, hours=3, minutes=5)) == "open 1 d 3 h"
    assert open_for(AT, AT - timedelta(minutes=1)) == "open under 1 min"  # clock skew


def test_the_child_by_given_name_and_initial():
    assert short_name("Sam", "taylor") == "Sam T."
    assert short_name(" Sam ", "") == "Sam"


def test_who_was_told_by_role_channel_and_outcome():
    first = told("alert", "", "social_worker", ["email", "sms"], 1, "delivered")
    assert (first.who, first.channel, first.status) == (
        "Social worker", "Text message", "Delivered",
    )  # fmt: skip
    step = told("escalation", "2", "social_worker", ["email"], 0, "failed")
    assert (step.who, step.status, step.status_tag) == (
        "Escalation step 2", "Failed", "govuk-tag--red",
    )  # fmt: skip
    assert told("alert", "", "duty_team", [], 0, "failed").channel == "no channel"


def test_contact_details_are_masked():
    assert mask_email("duty.desk@council.example") == "d…@council.example"
    assert mask_phone("07700 900123") == "…123"
    assert (
        mask_url("https://hooks.example/secret/path?x=1") == "https://hooks.example/…"
    )
    assert (
        mask_email(None) is None and mask_phone("") is None and mask_url(None) is None
    )
