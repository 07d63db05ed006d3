"""Intake's acceptance rules, one row per rule (DOMAIN.md sections in the ids)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from events.contracts.missing import ChildMatch, MissingReported, RiskGrade
from services.api.ratelimit import RateLimiter
from services.intake import decide
from services.intake.schemas import FoundReport, MissingReportCreate
from services.intake.validation import age_on, found_problems, report_problems

NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
CODES = frozenset({"886", "202"})


def a_report(**overrides: Any) -> MissingReportCreate:
    body: dict[str, Any] = {
        "police_force": "KENT",
        "police_reference": "KNT-1",
        "reported_at": NOW - timedelta(hours=1),
        "missing_since": NOW - timedelta(hours=3),
        "episode_type": "missing",
        "police_risk_grade": "medium",
        "child": {
            "given_name": "Sam",
            "family_name": "Taylor",
            "date_of_birth": date(2011, 5, 14),
            "gender": "female",
        },
        "placement": {"placing_authority": "886", "placement_type": "childrens_home"},
    }
    for key, value in overrides.items():
        if key.startswith("child_"):
            body["child"] = {**body["child"], key.removeprefix("child_"): value}
        else:
            body[key] = value
    return MissingReportCreate.model_validate(body)


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        pytest.param(
            {"missing_since": NOW + timedelta(minutes=6)},
            "missing_since",
            "future",
            id="missing_since beyond 5 minutes of skew",
        ),
        pytest.param(
            {"reported_at": NOW - timedelta(hours=4)},
            "reported_at",
            "before missing_since",
            id="reported before the child went missing",
        ),
        pytest.param(
            {"child_date_of_birth": date(2027, 1, 1)},
            "child.date_of_birth",
            "future",
            id="born in the future",
        ),
        pytest.param(
            {"child_date_of_birth": date(2008, 11, 26)},
            "child.date_of_birth",
            "18 or older",
            id="18 on the day missing: not a child (DOMAIN 3.3)",
        ),
        pytest.param(
            {
                "placement": {
                    "placing_authority": "999",
                    "placement_type": "foster_care",
                }
            },
            "placement.placing_authority",
            "local authority",
            id="unknown LA code",
        ),
    ],
)
def test_report_is_refused_naming_the_field(overrides, field, reason):
    problems = dict(report_problems(a_report(**overrides), NOW, CODES))
    assert field in problems
    assert reason in problems[field]


def test_skew_of_under_five_minutes_is_accepted():
    soon = NOW + timedelta(minutes=4)
    report = a_report(missing_since=soon, reported_at=soon)
    assert report_problems(report, NOW, CODES) == []


def test_age_counts_birthdays():
    assert age_on(date(2008, 11, 27), date(2026, 11, 26)) == 17
    assert age_on(date(2008, 11, 26), date(2026, 11, 26)) == 18


def test_found_before_missing_is_refused():
    found = FoundReport(
        found_at=NOW - timedelta(hours=5),
        returned_to="placement",
        safe_and_well_check=True,
    )
    assert found_problems(found, NOW - timedelta(hours=3), NOW) == [
        ("found_at", "is before missing_since")
    ]


UNMATCHED = ChildMatch(status="unmatched")


def reported(report: MissingReportCreate) -> MissingReported:
    """The one event a first report of a new episode decides."""
    decision = decide.report_missing(report, match=UNMATCHED, existing=None)
    assert isinstance(decision, list)
    [event] = decision
    assert isinstance(event, MissingReported)
    return event


class TestDecide:
    def test_legacy_absent_is_recorded_as_no_apparent_risk(self):
        """APP scrapped "absent" in 2017 (DOMAIN 2.2, rule 9.2): map it, keep it."""
        event = reported(a_report(police_risk_grade="absent"))
        assert event.police_risk_grade is RiskGrade.no_apparent_risk
        assert event.police_risk_grade_reported_as == "absent"

    def test_same_report_again_is_a_repeat(self):
        event = reported(a_report())
        again = decide.report_missing(
            a_report(), match=UNMATCHED, existing=decide.fold([event])
        )
        assert isinstance(again, decide.Repeat)

    def test_changed_report_is_a_conflict_naming_the_fields(self):
        event = reported(a_report())
        changed = a_report(police_risk_grade="high", child_gender="male")
        conflict = decide.report_missing(
            changed, match=UNMATCHED, existing=decide.fold([event])
        )
        assert isinstance(conflict, decide.Conflict)
        assert conflict.fields == ["child.gender", "police_risk_grade"]

    def test_episode_id_is_derived_from_force_and_reference(self):
        assert decide.episode_id_for("KENT", "1") == decide.episode_id_for("KENT", "1")
        assert decide.episode_id_for("KENT", "1") != decide.episode_id_for("MET", "1")


class TestRateLimit:
    def test_burst_then_wait(self):
        limiter = RateLimiter(per_minute=60, burst=2)
        assert limiter.take("c", now=0) == 0
        assert limiter.take("c", now=0) == 0
        assert limiter.take("c", now=0) == pytest.approx(1.0)
        assert limiter.take("c", now=1.0) == 0
        assert limiter.take("other", now=1.0) == 0

    def test_waiting_takes_nothing_and_an_unknown_key_need_not_wait(self):
        limiter = RateLimiter(per_minute=60, burst=1)
        assert limiter.wait("address", now=0) == 0
        limiter.take("address", now=0)
        assert limiter.wait("address", now=0) == pytest.approx(1.0)
        assert limiter.wait("address", now=0.5) == pytest.approx(0.5)
        assert limiter.take("address", now=1.0) == 0

    def test_keys_are_bounded_the_oldest_going_first(self):
        limiter = RateLimiter(per_minute=60, burst=1, max_keys=2)
        for key in ("a", "b", "c"):
            limiter.take(key, now=0)
        assert limiter.wait("a", now=0) == 0  # forgotten: as if its bucket were full
        assert limiter.wait("c", now=0) == pytest.approx(1.0)
