"""What each recipient is told: least data to each, and no name in any subject."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from events.contracts.missing import (
    Child,
    ChildMatch,
    ChildSighted,
    EpisodeReclassified,
    InformationAdded,
    LastSeen,
    MissingReported,
    Placement,
    PoliceRiskGradeChanged,
    RiskGrade,
)
from events.contracts.triage import Factor, RiskReassessed
from services.api.links import AckLinks
from services.notifier.messages import EpisodeFacts, News, is_news, words
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
    circumstances="left with an older man in a car", reporting_officer="PC 1234",
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


class TestTheHomeAuthority:
    """It keeps statutory responsibility for its child and manages the episode
    (DOMAIN 1.6): it gets what it needs to act, not the least of anyone."""

    def test_is_told_the_risk_its_reasons_and_what_the_police_know(self):
        body = words("alert", Scope.home_authority, FACTS).body
        for expected in ("Ada Fictitious", "Risk: high", "CSE risk high (cse)",
                         "left with an older man in a car", "Fictional Road bus stop",
                         "KENT reference KNT-7", "Reporting officer: PC 1234",
                         "Wed 01 Jul 2026 20:30"):  # fmt: skip
            assert expected in body
        assert "your authority" in body.casefold() and "return interview" in body

    def test_is_given_its_own_child_id_when_known(self):
        body = words(
            "alert", Scope.home_authority, replace(FACTS, home_child_id="CAM-42")
        ).body
        assert "Your child id: CAM-42" in body

    def test_is_never_given_this_councils_id_as_its_own(self):
        body = words("alert", Scope.home_authority, FACTS).body
        assert "C9" not in body
        assert "Your child id: not known to us" in body


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


AT = datetime(2026, 7, 1, 21, 30, tzinfo=UTC)
SIGHTED = ChildSighted(
    episode_id=REPORT.episode_id, seen_at=AT, postcode="ME15 6AA",
    description="with two older men",
)  # fmt: skip
GRADE = PoliceRiskGradeChanged(
    episode_id=REPORT.episode_id, previous="medium", grade="high", changed_at=AT,
    reason="phone off",
)  # fmt: skip
INFO = InformationAdded(
    episode_id=REPORT.episode_id, received_at=AT,
    information="friend says she went to London",
)  # fmt: skip
AWAY = EpisodeReclassified(
    episode_id=REPORT.episode_id, previous="missing", episode_type="away",
    reason="carer spoke to her", by="client:kent", role="police",
    reclassified_at=AT,
)  # fmt: skip
NEWS = (News(4, SIGHTED), News(5, GRADE), News(7, INFO))


class TestNews:
    def test_an_update_tells_the_news_of_its_window_and_no_earlier(self):
        body = words("update", Scope.full, replace(FACTS, news=NEWS), since=5).body
        assert "with two older men" not in body  # told in an earlier update
        assert "police risk grade MEDIUM -> HIGH (phone off)" in body
        assert "Wed 01 Jul 2026 22:30 friend says she went to London" in body

    def test_the_police_team_gets_the_bare_facts(self):
        body = words("update", Scope.police, replace(FACTS, news=NEWS), since=4).body
        assert "Wed 01 Jul 2026 22:30 seen at ME15 6AA" in body
        for private in ("with two older men", "phone off", "London"):
            assert private not in body

    def test_a_raised_level_is_named_in_the_subject(self):
        raised = RiskReassessed(
            episode_id=REPORT.episode_id, level="high", previous_level="medium",
            score=70, factors=[], actions=[], sources_answered=[], sources_missing=[],
            policy_version="t", assessed_at=AT, trigger="ChildSighted", added=[],
            removed=[],
        )  # fmt: skip
        facts = replace(FACTS, news=(News(4, SIGHTED), News(6, raised)))
        assert "risk raised to HIGH" in words("update", Scope.full, facts,
                                              since=4).subject  # fmt: skip
        assert "risk raised" not in words("update", Scope.full, facts,
                                          since=7).subject  # fmt: skip

    def test_a_reclassified_episode_says_away_and_why(self):
        facts = replace(FACTS, episode_type=AWAY.episode_type, news=(News(4, AWAY),))
        body = words("update", Scope.full, facts, since=4).body
        assert "now recorded as away by police: carer spoke to her" in body
        assert "Away since: Wed 01 Jul 2026 20:30 (away)" in body

    @pytest.mark.parametrize(
        ("event", "news"),
        [
            pytest.param(SIGHTED, False, id="the same sighting again: a repeat"),
            pytest.param(SIGHTED.model_copy(update={"postcode": "ME16 0AA"}), True,
                         id="a sighting elsewhere"),
            pytest.param(INFO.model_copy(update={"received_at": AT.replace(hour=23)}),
                         False, id="the same information, sent again later"),
            pytest.param(GRADE, True, id="a grade change is always news"),
        ],
    )  # fmt: skip
    def test_a_repeat_is_no_news(self, event, news):
        assert is_news(event, NEWS) is news
