"""Who is told: one row per routing rule, with its DOMAIN.md source in the id."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from events.calendar import is_working_day
from events.contracts.children import ChildRecorded
from events.contracts.children import Contact as Person
from events.contracts.missing import RiskGrade
from services.notifier.routing import (
    Case,
    Contact,
    Directory,
    Role,
    Scope,
    channels_for,
    recipients_for,
)

WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WEDNESDAY_NIGHT = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
BOXING_DAY_OBSERVED = datetime(2026, 12, 28, 12, 0, tzinfo=UTC)

DIRECTORY = Directory(
    duty_team=Contact("duty", email="duty@council.example"),
    out_of_hours=Contact("ooh", phone="07700900001"),
    mcet_by_district={"Maidstone": Contact("mcet-west", email="mcet.w@police.example")},
    mcet_default=Contact("mcet", email="mcet@police.example"),
    la_contacts={"202": Contact("la-202", email="missing@camden.example")},
    team_managers={"CiC West": Contact("tm-west", email="tm@council.example")},
)


def child(**changes) -> ChildRecorded:
    base = {
        "la_child_id": "C1", "given_name": "A", "family_name": "B",
        "date_of_birth": date(2011, 1, 1), "looked_after": True, "uasc": False,
        "placing_authority": "886", "placement_district": "Maidstone", "ola": False,
        "social_worker": Person(name="Alex", email="alex@council.example"),
        "team": Person(name="CiC West", email="cic.west@council.example"),
    }  # fmt: skip
    return ChildRecorded(**{**base, **changes})


def roles(case: Case) -> list[Role]:
    return [r.role for r in recipients_for(case, DIRECTORY)]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        pytest.param(Case(RiskGrade.low, False, child(), WEDNESDAY_NOON),
                     [Role.social_worker, Role.team],
                     id="social worker and team for every episode (DOMAIN 9.18)"),
        pytest.param(Case(RiskGrade.medium, False, child(), WEDNESDAY_NOON),
                     [Role.social_worker, Role.team, Role.mcet],
                     id="MCET from medium risk (local practice, DOMAIN 1.7)"),
        pytest.param(Case(RiskGrade.low, True, child(), WEDNESDAY_NOON),
                     [Role.social_worker, Role.team, Role.mcet],
                     id="MCET for any exploitation flag (DOMAIN 9.4)"),
        pytest.param(Case(RiskGrade.high, False, child(), WEDNESDAY_NOON),
                     [Role.social_worker, Role.team, Role.team_manager, Role.mcet],
                     id="team manager for high risk (DOMAIN 1.7)"),
        pytest.param(Case(RiskGrade.low, False, child(), WEDNESDAY_NIGHT),
                     [Role.social_worker, Role.team, Role.out_of_hours],
                     id="out of hours duty team at night (DOMAIN 1.7)"),
        pytest.param(Case(RiskGrade.low, False, child(), BOXING_DAY_OBSERVED),
                     [Role.social_worker, Role.team, Role.out_of_hours],
                     id="bank holiday is out of hours (DOMAIN 6)"),
        pytest.param(Case(RiskGrade.low, False, None, WEDNESDAY_NOON),
                     [Role.duty_team], id="duty team for an unmatched child"),
        pytest.param(Case(RiskGrade.low, False,
                          child(social_worker=None, team=None), WEDNESDAY_NOON),
                     [Role.duty_team], id="duty team when nobody is allocated"),
        pytest.param(Case(RiskGrade.low, False,
                          child(ola=True, placing_authority="202"), WEDNESDAY_NOON,
                          home_authority="202"),
                     [Role.social_worker, Role.team, Role.home_authority],
                     id="home LA of an OLA child, every episode (DOMAIN 1.6, 9.18)"),
        pytest.param(Case(RiskGrade.low, False, None, WEDNESDAY_NOON,
                          home_authority="202"),
                     [Role.duty_team, Role.home_authority],
                     id="home LA of an OLA child the records do not know "
                        "(DOMAIN 1.6, 9.18)"),
    ],
)  # fmt: skip
def test_who_is_told(case: Case, expected: list[Role]):
    assert roles(case) == expected


def test_each_recipient_gets_the_least_data_it_needs():
    case = Case(RiskGrade.high, True, child(ola=True, placing_authority="202"),
                WEDNESDAY_NOON, home_authority="202")  # fmt: skip
    scopes = {r.role: r.scope for r in recipients_for(case, DIRECTORY)}
    assert scopes[Role.home_authority] is Scope.home_authority
    assert scopes[Role.mcet] is Scope.police
    assert scopes[Role.social_worker] is Scope.full


def test_mcet_area_team_by_placement_district_else_the_default():
    west = Case(RiskGrade.high, False, child(), WEDNESDAY_NOON)
    elsewhere = Case(RiskGrade.high, False, child(placement_district="Dover"),
                     WEDNESDAY_NOON)  # fmt: skip
    ids = {r.contact.recipient_id for r in recipients_for(west, DIRECTORY)}
    assert "mcet-west" in ids
    ids = {r.contact.recipient_id for r in recipients_for(elsewhere, DIRECTORY)}
    assert "mcet" in ids


def told(case: Case, directory: Directory = DIRECTORY, **kwargs) -> list[tuple]:
    """(role, e-mail, phone) of each recipient, in routing's order."""
    return [(r.role, r.contact.email, r.contact.phone)
            for r in recipients_for(case, directory, **kwargs)]  # fmt: skip


class TestOneMessagePerAddress:
    def test_a_social_worker_who_is_also_the_teams_contact_is_told_once(self):
        team = Person(name="CiC West", email="Alex@Council.example")
        case = Case(RiskGrade.low, False, child(team=team), WEDNESDAY_NOON)
        assert told(case) == [(Role.social_worker, "alex@council.example", None)]

    def test_a_role_keeps_only_the_addresses_nobody_before_it_has(self):
        team = Person(name="CiC West", email="alex@council.example",
                      phone="07700 900555")  # fmt: skip
        case = Case(RiskGrade.low, False, child(team=team), WEDNESDAY_NOON)
        assert told(case) == [
            (Role.social_worker, "alex@council.example", None),
            (Role.team, None, "07700 900555"),
        ]

    def test_a_manager_in_two_places_is_told_once(self):
        """The team's manager is the out-of-hours contact too, the phone written
        two ways."""
        directory = Directory(
            out_of_hours=Contact("ooh", phone="+447700900001"),
            team_managers={"CiC West": Contact("tm-west", phone="07700900001")},
        )
        case = Case(RiskGrade.high, False, child(), WEDNESDAY_NIGHT)
        assert [r for r, _, _ in told(case, directory)] == [
            Role.social_worker, Role.team, Role.team_manager,
        ]  # fmt: skip

    def test_nobody_already_told_about_the_episode_is_told_again(self):
        """A raised level brings the team manager in; the address was reached by
        the out-of-hours alert before: no second message."""
        case = Case(RiskGrade.high, False, child(), WEDNESDAY_NIGHT)
        directory = Directory(
            out_of_hours=Contact("ooh", email="tm@council.example"),
            team_managers={"CiC West": Contact("tm-west", email="tm@council.example")},
        )
        already = [
            r.contact
            for r in recipients_for(
                Case(RiskGrade.medium, False, child(), WEDNESDAY_NIGHT), directory
            )
        ]
        assert told(case, directory, told=already) == []


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 25), True),
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 12, 25), False),  # Christmas Day
        (date(2026, 12, 28), False),  # Boxing Day (observed), DOMAIN 6
        (date(2026, 4, 3), False),  # Good Friday
        (date(2026, 4, 6), False),  # Easter Monday
    ],
)
def test_working_days_skip_weekends_and_bank_holidays(day: date, working: bool):
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("contact", "configured", "expected"),
    [
        pytest.param(Contact("a", email="a@x", phone="07700900003", webhook_url="h"),
                     {"email", "sms", "webhook"}, ["webhook", "email", "sms"],
                     id="webhook, then e-mail, then SMS"),
        pytest.param(Contact("a", email="a@x", phone="07700900003"),
                     {"email", "sms", "webhook"}, ["email", "sms"],
                     id="only those the contact has an address for"),
        pytest.param(Contact("a", email="a@x", phone="07700900003"), {"sms"},
                     ["sms"], id="only those the council has set up"),
        pytest.param(Contact("a", email="a@x"), {"sms"}, [],
                     id="none: the duty team is told"),
    ],
)  # fmt: skip
def test_channels_in_order(contact, configured, expected):
    assert channels_for(contact, configured) == expected
