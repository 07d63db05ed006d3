"""The episode page's words, pure: each event type in plain words, who caused it,
and the order (services/api/timeline.py and each service's timeline.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from events.contracts.alerts import (
    AlertAcknowledged,
    AlertContact,
    AlertDelivered,
    AlertDeliveryFailed,
    AlertEscalated,
    AlertMatter,
    AlertRaised,
    AlertSendAttempted,
    AlertSent,
)
from events.contracts.missing import (
    ChildFound,
    ChildSighted,
    EpisodeReclassified,
    InformationAdded,
    PoliceRiskGradeChanged,
    ReturnTimeCorrected,
)
from events.contracts.returns import (
    Concern,
    OfferedBy,
    ReturnInterviewCompleted,
    ReturnInterviewOffered,
    ReturnReasonsRecorded,
)
from events.contracts.triage import Factor, RiskAssessed
from services.api.timeline import TimelineEntry, channel_words, in_order, when, who
from services.intake import timeline as intake
from services.notifier import timeline as notifier
from services.records.frequency import FrequentlyMissing
from services.returns import timeline as returns
from services.returns.frequent_page import threshold_words
from tests.unit.intake.test_validation import a_report, reported

AT = datetime(2026, 7, 1, 13, 5, tzinfo=UTC)
EPISODE = uuid.uuid4()
ALERT = uuid.uuid4()
PERSON = uuid.UUID(
    "39c191bf-e07d-4a35-95de-37e1f0c382c0"
)  # fixed: test ids alike on every xdist worker


class TestWho:
    @pytest.mark.parametrize(
        ("actor", "said"),
        [
            (f"person:{PERSON}", "Jo Okafor"),
            ("person:db518d9a-d217-45a9-a853-2b21c36b979d", "A former member of staff"),
            ("client:kent", "kent (API client)"),
            ("triage", "Lantern"),
            ("notifier", "Lantern"),
            ("system", "Lantern"),
            ("history:council-2025", "Imported history"),
            ("notify", "GOV.UK Notify"),
            ("link:abc", "The recipient, by the link in the message"),
            ("cli:children-import", "Lantern (command line)"),
        ],
    )
    def test_each_actor(self, actor, said):
        assert who(actor, {PERSON: "Jo Okafor"}) == said


def test_in_order_by_time_then_as_recorded():
    later = TimelineEntry(AT + timedelta(seconds=1), "b", "system", position=1)
    first = TimelineEntry(AT, "a", "system", position=9)
    same_time = TimelineEntry(AT, "c", "system", position=10)
    assert in_order([later, same_time, first]) == [first, same_time, later]


def test_times_are_shown_in_uk_time():
    assert when(AT) == "Wed 1 Jul 2026, 14:05"  # BST
    assert when(datetime(2026, 12, 3, 9, 0, tzinfo=UTC)) == "Thu 3 Dec 2026, 09:00"


def test_channels_in_words():
    assert channel_words(["email", "sms"]) == "e-mail, then text message"


def test_threshold_in_words():
    assert threshold_words(FrequentlyMissing(3, 90)) == (
        "3 or more missing episodes in 90 days"
    )


class TestTheEpisodesEvents:
    def test_the_report_names_the_force(self):
        what, detail = intake.described(reported(a_report()))
        assert what == "Reported missing by Kent Police"
        assert detail == "Police risk grade medium"

    def test_the_assessment_counts_its_factors(self):
        factor = Factor(code="age", source="directory", evidence="age 15",
                        weight=1, exploitation=False)  # fmt: skip
        assessed = RiskAssessed(
            episode_id=EPISODE, level="high", score=7, factors=[factor] * 3,
            actions=[], sources_answered=[], sources_missing=[],
            policy_version="2026-1", assessed_at=AT, trigger="report",
        )  # fmt: skip
        assert intake.described(assessed)[0] == "Risk assessed: high (3 factors)"

    @pytest.mark.parametrize(
        ("event", "what"),
        [
            (PoliceRiskGradeChanged(episode_id=EPISODE, previous="medium",
                                    grade="high", changed_at=AT), "Update from police"),
            (InformationAdded(episode_id=EPISODE, received_at=AT,
                              information="seen at the station"), "Update from police"),
            (ChildSighted(episode_id=EPISODE, seen_at=AT, postcode="ME1 1AA"),
             "Sighting"),
            (ChildFound(episode_id=EPISODE, found_at=AT, returned_to="placement",
                        safe_and_well_check=True), "Returned"),
            (EpisodeReclassified(episode_id=EPISODE, previous="missing",
                                 episode_type="away", reason="r", by="client:x",
                                 role="staff", reclassified_at=AT),
             "Reclassified: away"),
            (ReturnTimeCorrected(episode_id=EPISODE, previous=AT, found_at=AT,
                                 reason="typo", by="client:x", role="staff",
                                 corrected_at=AT), "Correction: the return time"),
        ],
    )  # fmt: skip
    def test_each_in_words_without_what_the_police_wrote(self, event, what):
        said, detail = intake.described(event)
        assert said == what
        assert "station" not in detail and "ME1" not in detail  # least data


class TestTheAlertsEvents:
    contact = AlertContact(recipient_id="sw", email="sw@council.example")

    def test_raised_says_the_role_and_channels_not_the_address(self):
        raised = AlertRaised(
            alert_id=ALERT, episode_id=EPISODE, role="social_worker", scope="full",
            level="high", contact=self.contact, channels=["email", "sms"],
            escalate_at=None, raised_at=AT,
        )  # fmt: skip
        what, detail = notifier.described(raised, "social_worker")  # type: ignore[misc]
        assert what == "Alert raised for the social worker"
        assert detail == "Level high; by e-mail, then text message"
        assert "@" not in what + detail

    def test_a_prompt_says_what_it_is_about(self):
        raised = AlertRaised(
            alert_id=ALERT, episode_id=EPISODE, role="duty_team", scope="full",
            level="high", contact=self.contact, channels=["email"],
            escalate_at=None, raised_at=AT,
            matter=AlertMatter(kind="strategy_discussion", episodes=3, days=90),
        )  # fmt: skip
        said = notifier.described(raised, "duty_team")
        assert said is not None
        assert said[0] == "Strategy discussion prompt raised for the duty team"

    @pytest.mark.parametrize(
        ("event", "what"),
        [
            (AlertSent(alert_id=ALERT, delivery_id="d", kind="alert", channel="email",
                       attempt=1, provider_id=None, accepted_at=AT),
             "Alert sent to the social worker by e-mail"),
            (AlertDelivered(alert_id=ALERT, delivery_id="d", channel="sms",
                            provider_id="p", delivered_at=AT), "Delivered"),
            (AlertDeliveryFailed(alert_id=ALERT, delivery_id="d", kind="alert",
                                 channel="email", attempt=1, code="550", status=None,
                                 permanent=True, retry_at=None, failed_at=AT),
             "Delivery failed"),
            (AlertAcknowledged(alert_id=ALERT, acknowledged_at=AT, via="api"),
             "Acknowledged: the alert to the social worker"),
            (AlertEscalated(alert_id=ALERT, step=1, contact=contact, channels=["sms"],
                            next_escalation_at=None, escalated_at=AT),
             "Escalated (step 1)"),
        ],
    )  # fmt: skip
    def test_each_in_words(self, event, what):
        said = notifier.described(event, "social_worker")
        assert said is not None and said[0] == what
        assert "@" not in said[1]

    def test_the_attempt_before_a_send_is_left_out(self):
        attempt = AlertSendAttempted(
            alert_id=ALERT, delivery_id="d", kind="alert", channel="email",
            attempt=1, attempted_at=AT, lease_until=AT,
        )  # fmt: skip
        assert notifier.described(attempt, "social_worker") is None


class TestTheInterviewsEvents:
    def test_offered_completed_and_reasons(self):
        assert returns.described(
            ReturnInterviewOffered(episode_id=EPISODE, offered_at=AT,
                                   offered_by=OfferedBy.independent_provider)
        ) == ("Return interview offered", "By the independent provider")  # fmt: skip
        assert returns.described(
            ReturnInterviewCompleted(episode_id=EPISODE, completed_at=AT, late=True)
        ) == ("Return interview completed", "Late")
        reasons = ReturnReasonsRecorded(
            episode_id=EPISODE, taxonomy_version="1", reasons=["a", "b"],
            concerns=[Concern.cse], recorded_at=AT,
        )  # fmt: skip
        assert returns.described(reasons) == (
            "Reasons recorded",
            "2 reasons; 1 exploitation concern",
        )


def test_the_policys_codes_keep_their_acronyms():
    from services.intake.pages import _said

    assert _said("mcet_referral", first=True) == "MCET referral"
    assert _said("strategy_discussion", first=True) == "Strategy discussion"
    assert _said("youth_justice") == "youth justice"


def test_age_counts_birthdays():
    from datetime import date

    from services.api.timeline import age

    assert age(date(2011, 5, 14), date(2026, 5, 13)) == 14
    assert age(date(2011, 5, 14), date(2026, 5, 14)) == 15
