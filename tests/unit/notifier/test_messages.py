"""What each recipient is told: least data to each, and no name in any subject."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from events.contracts.missing import (
    Child,
    ChildMatch,
    LastSeen,
    MissingReported,
    Placement,
    RiskGrade,
)
from events.contracts.triage import Factor
from services.api.links import AckLinks
from services.notifier.messages import EpisodeFacts, words
from services.notifier.routing import Scope

REPORT = MissingReported(
    episode_id=uuid4(), police_force="KENT", police_reference="KNT-7",
    reported_at=datetime(2026, 7, 1, 21, 0, tzinfo=UTC),
    missing_since=datetime(2026, 7, 1, 19, 30, tzinfo=UTC), episode_type="missing",
    police_risk_grade="high",
    child=Child(la_child_id="C9", given_name="Ada", family_name="Fictitious",
                date_of_birth=date(2010, 3, 14), gender="female"),
    placement=Placement(placing_authority="202", placement_type="childrens_home",
                        postcode="ME14 1AA"),
    last_seen=LastSeen(description="Fictional Road bus stop"),
    circumstances="left with an older man in a car",
    match=ChildMatch(status="matched", la_child_id="C9", candidates=1),
)  # fmt: skip
FACTS = EpisodeFacts(
    REPORT,
    RiskGrade.high,
    factors=(
        Factor(
            code="cse_high",
            source="cse",
            evidence="CSE risk high",
            weight=40,
            exploitation=True,
        ),
        Factor(
            code="missing_before",
            source="store",
            evidence="2 before",
            weight=10,
            exploitation=False,
        ),
    ),
    actions=("strategy discussion",),
)
PRIVATE = ("Fictional Road", "older man", "ME14 1AA", "2 before", "strategy")


@pytest.mark.parametrize("kind", ["alert", "update", "closed", "escalation", "failure"])
def test_no_subject_names_the_child(kind):
    subject = words(kind, Scope.full, FACTS, step=1).subject
    assert "Ada" not in subject and "Fictitious" not in subject
    assert "KENT/KNT-7" in subject


def test_the_childs_council_is_told_everything_it_needs():
    body = words("alert", Scope.full, FACTS).body
    for expected in ("Ada Fictitious", "14 Mar 2010", *PRIVATE, "CSE risk high"):
        assert expected in body
    assert "Wed 01 Jul 2026 20:30" in body  # Europe/London, summer time


def test_the_police_team_gets_identity_level_and_exploitation_only():
    body = words("alert", Scope.police, FACTS).body
    assert "Ada Fictitious" in body and "CSE risk high" in body
    assert not [p for p in PRIVATE if p in body]


def test_the_home_authority_gets_who_since_when_and_how_urgent():
    body = words("alert", Scope.home_authority, FACTS).body
    assert "Ada Fictitious" in body and "Your child id: C9" in body
    assert "CSE" not in body and not [p for p in PRIVATE if p in body]


def test_a_closing_message_says_how_it_ended():
    found = EpisodeFacts(REPORT, RiskGrade.high, ended="found")
    withdrawn = EpisodeFacts(REPORT, RiskGrade.high, ended="withdrawn")
    assert "found" in words("closed", Scope.full, found).body
    assert "withdrawn" in words("closed", Scope.full, withdrawn).body


class TestAckLinks:
    links = AckLinks(b"s" * 32, "https://lantern.example/")
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def parts(self, url: str) -> tuple[str, int, str]:
        query = dict(p.split("=") for p in url.split("?")[1].split("&"))
        return query["d"], int(query["e"]), query["s"]

    def test_a_link_it_made_is_valid_until_it_expires(self):
        alert = uuid4()
        d, e, s = self.parts(self.links.url(alert, "del-1", now=self.now))
        assert self.links.valid(alert, d, e, s, now=self.now)
        late = self.now + timedelta(days=8)
        assert not self.links.valid(alert, d, e, s, now=late)

    def test_a_link_cannot_be_moved_to_another_alert_or_stretched(self):
        alert = uuid4()
        d, e, s = self.parts(self.links.url(alert, "del-1", now=self.now))
        assert not self.links.valid(uuid4(), d, e, s, now=self.now)
        assert not self.links.valid(alert, d, e + 86400, s, now=self.now)
        assert not self.links.valid(alert, "del-2", e, s, now=self.now)
