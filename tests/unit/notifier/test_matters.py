"""Alerts about a matter of an episode: who is told of each, and what (least data)."""

from __future__ import annotations

from datetime import date

import pytest

from events.contracts.alerts import AlertMatter
from services.notifier.matters import matter_recipients, matter_words
from services.notifier.routing import Directory, Role, Scope
from tests.unit.notifier.test_messages import FACTS
from tests.unit.notifier.test_routing import DIRECTORY, child

OVERDUE = AlertMatter(
    kind="interview_overdue", due_date=date(2025, 12, 24), deadline="3_working_days"
)
STRATEGY = AlertMatter(kind="strategy_discussion", episodes=3, days=90)
CONCERNS = AlertMatter(kind="exploitation_concerns", concerns=["cse", "gangs"])
PRIVATE = ("Fictional Road", "older man", "ME14 1AA", "2 before", "CSE risk high",
           "PC 1234")  # fmt: skip


def told(matter: AlertMatter, **kw) -> list[tuple[Role, str, Scope]]:
    the_child = kw.pop("the_child", child())
    directory = kw.pop("directory", DIRECTORY)
    home = kw.pop("home", None)
    return [
        (r.role, r.contact.recipient_id, r.scope)
        for r in matter_recipients(matter, the_child, directory, home)
    ]


@pytest.mark.parametrize(
    ("matter", "kw", "expected"),
    [
        pytest.param(OVERDUE, {}, [
            (Role.social_worker, "social_worker:C1", Scope.full),
            (Role.team_manager, "tm-west", Scope.full)],
            id="overdue interview: social worker and team manager (DOMAIN 9.12-13)"),
        pytest.param(OVERDUE, {"the_child": child(social_worker=None, team=None)}, [
            (Role.duty_team, "duty", Scope.full)],
            id="overdue interview, nobody allocated: the duty team"),
        pytest.param(OVERDUE, {"the_child": None}, [
            (Role.duty_team, "duty", Scope.full)],
            id="overdue interview, child not in the records: the duty team"),
        pytest.param(OVERDUE, {"home": "202"}, [
            (Role.social_worker, "social_worker:C1", Scope.full),
            (Role.home_authority, "la-202", Scope.home_authority),
            (Role.team_manager, "tm-west", Scope.full)],
            id="overdue interview of a child placed from elsewhere: its home "
               "authority does the interview (source 2.3)"),
        pytest.param(STRATEGY, {"home": "202"}, [
            (Role.team_manager, "tm-west", Scope.full),
            (Role.mcet, "mcet-west", Scope.police)],
            id="strategy discussion: the council's own, whoever placed the child"),
        pytest.param(STRATEGY, {}, [
            (Role.team_manager, "tm-west", Scope.full),
            (Role.mcet, "mcet-west", Scope.police)],
            id="strategy discussion: team manager and MCET of the district (5.4)"),
        pytest.param(STRATEGY, {"the_child": child(team=None)}, [
            (Role.duty_team, "duty", Scope.full),
            (Role.mcet, "mcet-west", Scope.police)],
            id="strategy discussion, no team manager: the duty team convenes it"),
        pytest.param(CONCERNS, {"the_child": child(placement_district="Dover")}, [
            (Role.mcet, "mcet", Scope.police)],
            id="interview concerns: MCET only, the default team elsewhere (9.4)"),
        pytest.param(CONCERNS, {"directory": Directory()}, [],
            id="nobody configured: nobody told"),
    ],
)  # fmt: skip
def test_who_is_told(matter, kw, expected):
    assert told(matter, **kw) == expected


def test_one_message_per_address():
    same = DIRECTORY.team_managers["CiC West"]
    directory = Directory(team_managers={"CiC West": same}, mcet_default=same)
    got = told(STRATEGY, the_child=child(placement_district=None), directory=directory)
    assert got == [(Role.team_manager, "tm-west", Scope.full)]


def test_overdue_says_what_is_overdue_and_when_it_was_due():
    words = matter_words(OVERDUE, FACTS)
    assert words.subject == "Lantern: return interview overdue (KENT/KNT-7)"
    assert "due by Wed 24 Dec 2025 (3 working days after the return)" in words.body


def test_strategy_discussion_says_how_often():
    words = matter_words(STRATEGY, FACTS)
    assert "strategy discussion" in words.subject
    assert "missing 3 times in 90 days" in words.body


def test_concerns_are_named():
    body = matter_words(CONCERNS, FACTS).body
    assert "child sexual exploitation (CSE), gangs" in body


@pytest.mark.parametrize("matter", [OVERDUE, STRATEGY, CONCERNS])
def test_least_data(matter):
    words = matter_words(matter, FACTS)
    report = FACTS.report
    assert report.child.given_name not in words.subject  # lock screens show subjects
    assert not any(p in words.body for p in PRIVATE)  # circumstances, reasons
    assert f"{report.child.given_name} {report.child.family_name}" in words.body
