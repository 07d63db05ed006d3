"""Escalation, pure: which alerts escalate, and who an unacknowledged episode goes to
next, and when. One row per case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from events.contracts.missing import RiskGrade
from services.notifier.routing import (
    AlertClock,
    Contact,
    Escalation,
    Hold,
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


def clock(
    n: int,
    at: datetime | None = NOW,
    step: int = 0,
    status: str = "open",
    role: str = Role.social_worker,
) -> AlertClock:
    return AlertClock(UUID(int=n), role, status, at, step)


SW = clock(1)


@pytest.mark.parametrize(
    ("alerts", "chain", "expected"),
    [
        pytest.param([SW], CHAIN, Escalation(1, CHAIN[0], NOW + AFTER, SW),
                     id="due: the first step, and the next one's time"),
        pytest.param([clock(1, NOW - AFTER, 1)], CHAIN,
                     Escalation(2, CHAIN[1], None, clock(1, NOW - AFTER, 1)),
                     id="overdue, the last step: no time after it"),
        pytest.param([clock(1, None, 2)], CHAIN, Hold(None),
                     id="nobody further up the chain"),
        pytest.param([SW], (), Hold(None), id="no escalation chain configured"),
        pytest.param([clock(1, NOW + timedelta(seconds=1))], CHAIN,
                     Hold(NOW + timedelta(seconds=1)), id="not due yet"),
        pytest.param([clock(1, None)], CHAIN, Hold(None),
                     id="no timer: not an escalating alert"),
        pytest.param([clock(1, status="acknowledged")], CHAIN, Hold(None),
                     id="an acknowledgement stops it"),
        pytest.param([clock(1, step=1, status="closed")], CHAIN, Hold(None),
                     id="the episode's end stops it"),
    ],
)  # fmt: skip
def test_the_next_step(alerts, chain, expected):
    assert next_escalation(alerts, chain, NOW, after=AFTER) == expected


TEAM = clock(2, NOW - timedelta(minutes=1), role=Role.team)
MCET = clock(3, None, role=Role.mcet)


@pytest.mark.parametrize(
    ("alerts", "expected"),
    [
        pytest.param([SW, TEAM], Escalation(1, CHAIN[0], NOW + AFTER, TEAM),
                     id="two alerts due: one step for the episode, on the first due"),
        pytest.param([clock(1, NOW + AFTER, 1), TEAM], Hold(NOW + AFTER),
                     id="a step another alert carried is not taken again"),
        pytest.param([SW, clock(2, None, role=Role.team, status="acknowledged")],
                     Hold(None),
                     id="the team acknowledged: the social worker's stops too"),
        pytest.param([SW, clock(3, None, role=Role.mcet, status="acknowledged")],
                     Escalation(1, CHAIN[0], NOW + AFTER, SW),
                     id="the police team is not the care team: its ack stops nothing"),
        pytest.param([SW, MCET], Escalation(1, CHAIN[0], NOW + AFTER, SW),
                     id="the police team's alert never carries a step"),
    ],
)  # fmt: skip
def test_escalation_follows_the_episode(alerts, expected):
    assert next_escalation(alerts, CHAIN, NOW, after=AFTER) == expected


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
