"""The return interview's deadlines (DOMAIN.md §9 rules 12 and 13): the golden cases,
the clock changes, Christmas and Easter, and every day of 2020-2030 against a plain
restatement of the rule written here, not the product's function."""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.returns.rules import Deadline, due, due_72h_at, due_date, supersedes

LONDON = ZoneInfo("Europe/London")


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


# The restatement: every working day of the years, in order (Mon-Fri, not an
# England and Wales bank holiday per `holidays`, DOMAIN.md §6); the due date of a
# return on day D is the third of them after D.
BANK = holidays.country_holidays("GB", subdiv="ENG", years=range(2019, 2032))
WORKING = [
    d
    for d in (date(2019, 12, 1) + timedelta(days=n) for n in range(12 * 366))
    if d.isoweekday() <= 5 and d not in BANK
]


def restated_due(day: date) -> date:
    return WORKING[bisect.bisect_right(WORKING, day) + 2]


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        pytest.param("2025-12-19T18:00", date(2025, 12, 24), id="rule 13: Fri -> Wed"),
        pytest.param(
            "2025-12-23T09:00", date(2025, 12, 30), id="rule 13: 25/26 Dec + weekend"
        ),
        pytest.param(
            "2026-04-02T12:00", date(2026, 4, 9), id="rule 13: Good Friday, Easter Mon"
        ),
        pytest.param(
            "2026-12-24T23:59", date(2026, 12, 31), id="Christmas Fri, Boxing Day Mon"
        ),
        pytest.param(
            "2020-05-07T10:00", date(2020, 5, 13), id="VE Day moved early May (2020)"
        ),
        pytest.param("2025-12-20T10:00", date(2025, 12, 24), id="a Saturday return"),
    ],
)
def test_due_date_golden_cases(returned: str, expected: date):
    assert due_date(london(returned)) == expected


def test_the_return_day_is_londons_not_utcs():
    # 23:30 UTC on Thu 26 Mar 2026 is still Thursday in London (GMT) ...
    assert due_date(datetime(2026, 3, 26, 23, 30, tzinfo=UTC)) == date(2026, 3, 31)
    # ... but 23:30 UTC on Thu 2 Jul 2026 is 00:30 Friday in London (BST).
    assert due_date(datetime(2026, 7, 2, 23, 30, tzinfo=UTC)) == date(2026, 7, 8)


def test_72_hours_golden_case():
    # Rule 12: return Fri 2025-12-19 18:00 -> due Mon 2025-12-22 18:00.
    assert due_72h_at(london("2025-12-19T18:00")) == london("2025-12-22T18:00")


@pytest.mark.parametrize(
    ("returned", "shown"),
    [
        pytest.param("2026-03-27T18:00", "2026-03-30T19:00", id="clocks forward"),
        pytest.param("2026-10-23T18:00", "2026-10-26T17:00", id="clocks back"),
    ],
)
def test_72_hours_are_elapsed_hours_across_a_clock_change(returned, shown):
    at = due_72h_at(london(returned))
    assert (at - london(returned).astimezone(UTC)) == timedelta(hours=72)
    assert at.astimezone(LONDON).replace(tzinfo=None) == datetime.fromisoformat(shown)


@pytest.mark.parametrize(
    ("returned", "overdue_utc"),
    [
        # due Thu 2 Apr 2026 (BST): the day ends at 23:00 UTC
        pytest.param("2026-03-27T18:00", "2026-04-01T23:00", id="BST: 23:00 UTC"),
        # due Wed 24 Dec 2025 (GMT): the day ends at midnight UTC
        pytest.param("2025-12-19T18:00", "2025-12-25T00:00", id="GMT: 00:00 UTC"),
    ],
)
def test_overdue_at_the_end_of_the_due_date_in_london(returned, overdue_utc):
    d = due(london(returned), Deadline.working_days)
    assert d.overdue_at == datetime.fromisoformat(overdue_utc).replace(tzinfo=UTC)
    end = datetime.combine(d.due_date + timedelta(days=1), time(0), LONDON)
    assert d.overdue_at == end


def test_the_72_hour_setting_is_overdue_at_72_hours():
    returned = london("2025-12-19T18:00")
    d = due(returned, Deadline.hours_72)
    assert d.overdue_at == d.due_72h_at == london("2025-12-22T18:00")
    assert d.due_date == date(2025, 12, 24)  # both shown


def test_every_day_of_2020_to_2030_against_the_restatement():
    day = date(2020, 1, 1)
    while day <= date(2030, 12, 31):
        for hour in (0, 12, 23):
            returned = datetime.combine(day, time(hour, 30), LONDON)
            assert due_date(returned) == restated_due(day), day
        day += timedelta(days=1)


INSTANTS = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
    max_value=datetime(2030, 12, 28),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(INSTANTS)
def test_any_instant_is_due_on_the_third_working_day_of_its_london_date(at):
    d = due(at, Deadline.working_days)
    assert d.due_date == restated_due(at.astimezone(LONDON).date())
    assert d.overdue_at > at + timedelta(days=3)  # 3 working days are >= 3 days
    assert d.due_72h_at - at == timedelta(hours=72)


@pytest.mark.parametrize(
    ("missing_again", "superseded"),
    [
        pytest.param("2025-12-19T17:59", False, id="before the return"),
        pytest.param("2025-12-19T18:00", True, id="at the return"),
        pytest.param("2025-12-24T23:59", True, id="the last minute of the due date"),
        pytest.param("2025-12-25T00:00", False, id="the day after the due date"),
    ],
)
def test_going_missing_again_by_the_due_date_supersedes(missing_again, superseded):
    returned = london("2025-12-19T18:00")
    d = due(returned, Deadline.working_days)
    assert supersedes(london(missing_again), returned, d) is superseded
