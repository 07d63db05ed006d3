"""Contracts changed by the routing corrections: history reads as it meant then.

ChildRecorded v2 carries the placing authority's own id for the child; AlertUpdated
v2 names the update message it goes into, and a v1 update keeps the message it had
(named by its level), so a rebuilt read model does not send it again."""

from __future__ import annotations

import json
from uuid import uuid4

from events.contracts.alerts import AlertUpdated
from events.contracts.children import ChildRecorded
from events.registry import decode, decode_json


def test_a_v1_child_record_has_no_id_of_the_placing_authority():
    stored = {
        "la_child_id": "C1", "given_name": "A", "family_name": "B",
        "date_of_birth": "2011-01-01", "looked_after": True, "uasc": False,
        "placing_authority": "202", "ola": True,
    }  # fmt: skip
    read = decode_json("ChildRecorded", 1, json.dumps(stored))
    assert isinstance(read, ChildRecorded)
    assert ChildRecorded.schema_version == 2
    assert read.placing_authority_child_id is None


def test_a_v1_update_keeps_the_message_it_had():
    stored = {
        "alert_id": str(uuid4()), "level": "high", "previous_level": "medium",
        "escalate_at": None, "updated_at": "2026-11-26T15:00:00Z",
    }  # fmt: skip
    read = decode("AlertUpdated", 1, stored)
    assert isinstance(read, AlertUpdated)
    assert AlertUpdated.schema_version == 2
    assert read.occasion == "high"
