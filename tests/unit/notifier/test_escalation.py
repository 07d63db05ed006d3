"""Escalation, pure: which alerts escalate, and who an unacknowledged alert goes to
next, and when. One row per case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events.contracts.missing import RiskGrade
from services.notifier.routing import (
    AlertClock,
    Contact,
    Escalation,
    Role,
    escalate_at,
    next_escalation,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
AFTER = timedelta(minutes=15)
CHAIN = (
    Contact("manager", email="manager@council.example"),
    Contact("head", phone="07700900002"),
)


@pytest.mark.parametrize(
    ("alert", "chain", "expected"),
    [
        pytest.param(AlertClock("open", NOW, 0), CHAIN,
                     Escalation(1, CHAIN[0], NOW + AFTER),
                     id="due: the first step, and the next one's time"),
        pytest.param(AlertClock("open", NOW - AFTER, 1), CHAIN,
                     Escalation(2, CHAIN[1], None),
                     id="overdue, the last step: no time after it"),
        pytest.param(AlertClock("open", NOW, 2), CHAIN, None,
                     id="nobody further up the chain"),
        pytest.param(AlertClock("open", NOW, 0), (), None,
                     id="no escalation chain configured"),
        pytest.param(AlertClock("open", NOW + timedelta(seconds=1), 0), CHAIN, None,
                     id="not due yet"),
        pytest.param(AlertClock("open", None, 0), CHAIN, None,
                     id="no timer: not an escalating alert"),
        pytest.param(AlertClock("acknowledged", NOW, 0), CHAIN, None,
                     id="an acknowledgement stops it"),
        pytest.param(AlertClock("closed", NOW, 1), CHAIN, None,
                     id="the episode's end stops it"),
    ],
)  # fmt: skip
def test_the_next_step(alert, chain, expected):
    assert next_escalation(alert, chain, NOW, after=AFTER) == expected


@pytest.mark.parametrize(
    ("level", "role", "escalates"),
    [
        pytest.param(RiskGrade.high, role, True, id=f"high risk, {role}")
        for role in (Role.social_worker, Role.team, Role.duty_team,
                     Role.out_of_hours, Role.team_manager)
    ] + [
        pytest.param(RiskGrade.high, Role.mcet, False, id="the police team is told"),
        pytest.param(RiskGrade.high, Role.home_authority, False,
                     id="a home authority is told"),
        pytest.param(RiskGrade.medium, Role.social_worker, False,
                     id="below high risk nothing escalates"),
    ],
)  # fmt: skip
def test_only_the_childs_council_escalates_and_only_at_high_risk(
    level, role, escalates
):
    expected = NOW + AFTER if escalates else None
    assert escalate_at(level, role, NOW, after=AFTER) == expected
