"""The pure rules of erasure (events/personal.py) and the sealing of a payload
(events/store/keys.py, without a database): which fields are personal, whose key
seals them, and what they read as once the key is destroyed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import events.contracts  # noqa: F401  (registers every event type)
from events.contracts.children import ChildRecorded
from events.contracts.missing import (
    Child,
    ChildMatch,
    MissingReported,
    Placement,
    PlacementType,
    RiskGrade,
)
from events.contracts.recipients import RecipientRecorded
from events.personal import (
    ERASED,
    child_of,
    erased_values,
    generalise,
    personal_paths,
    subject_of,
)
from events.registry import event_types
from events.store.keys import _seal_at, opened, subjects_in

EPISODE = uuid.UUID("00000000-0000-0000-0000-000000000001")
AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def a_report(la_child_id: str | None = "C1") -> MissingReported:
    return MissingReported(
        episode_id=EPISODE, police_force="KENT", police_reference="K-1",
        reported_at=AT, missing_since=AT, episode_type="missing",
        police_risk_grade=RiskGrade.high,
        child=Child(given_name="Zebedee", family_name="Quux",
                    date_of_birth=date(2009, 7, 23), gender="male"),
        placement=Placement(placing_authority="886",
                            placement_type=PlacementType.foster_care,
                            postcode="ZZ9 9ZZ"),
        circumstances="Left for 4 Aardvark Lane",
        match=ChildMatch(status="matched" if la_child_id else "unmatched",
                         la_child_id=la_child_id),
    )  # fmt: skip


def test_the_personal_fields_of_a_report():
    assert personal_paths(MissingReported) == (
        ("child", "given_name"), ("child", "family_name"), ("child", "date_of_birth"),
        ("placement", "postcode"), ("last_seen", "description"),
        ("last_seen", "postcode"), ("circumstances",),
    )  # fmt: skip
    assert personal_paths(ChildRecorded) == (
        ("given_name",), ("family_name",), ("date_of_birth",),
    )  # fmt: skip
    assert personal_paths(RecipientRecorded) == ()  # staff's, not a child's


def test_every_event_with_personal_fields_has_a_subject():
    for name, cls in event_types().items():
        if personal_paths(cls):
            assert {"episode_id", "la_child_id"} & set(cls.model_fields), name


def test_the_subject_rule():
    report = a_report().to_data()
    assert subject_of(report) == f"episode:{EPISODE}"  # even when matched
    assert child_of(report) == "C1"
    assert child_of(a_report(None).to_data()) is None
    assert subject_of({"la_child_id": "C2", "given_name": "x"}) == "child:C2"
    assert child_of({"la_child_id": "C2"}) == "C2"
    assert subject_of({"recipient_id": "r"}) is None


def test_what_an_erased_field_reads_as():
    erased = erased_values(MissingReported)
    assert erased[("child", "given_name")] == ERASED
    assert erased[("circumstances",)] is None
    assert erased[("child", "date_of_birth")] is generalise
    assert generalise("2009-07-23") == "2009-07-01"


def test_a_sealed_report_opens_with_its_key_and_validates_without_it():
    report = a_report()
    data = report.to_data()
    key = AESGCM.generate_key(bit_length=256)
    subject = f"episode:{EPISODE}"
    erased = erased_values(MissingReported)
    for path in personal_paths(MissingReported):
        _seal_at(data, path, subject, key, erased[path])
    text = str(data)
    assert "Zebedee" not in text and "Aardvark" not in text and "2009-07-23" not in text
    assert subjects_in(data, set()) == {subject}
    assert MissingReported.model_validate(opened(data, {subject: key})) == report

    forgotten = MissingReported.model_validate(opened(data, {subject: None}))
    assert forgotten.child.given_name == forgotten.child.family_name == ERASED
    assert forgotten.child.date_of_birth == date(2009, 7, 1)
    assert forgotten.placement.postcode is None and forgotten.circumstances is None
    assert forgotten.police_reference == report.police_reference

    other = AESGCM.generate_key(bit_length=256)  # re-keyed since: still erased
    assert MissingReported.model_validate(opened(data, {subject: other})) == forgotten
