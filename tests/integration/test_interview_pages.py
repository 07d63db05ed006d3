"""The return interviews' pages over real HTTP: the interviews to do, sorted into
overdue, due today and coming up by the 3-working-day rule (restated here with
`holidays`), and the form that records an interview with the API's rules, by the
field, recording nothing when a field is wrong."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from tests.integration.test_returns import Rig

LONDON = ZoneInfo("Europe/London")


def _bank(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(
        "GB", subdiv="ENG", years=[year - 1, year, year + 1]
    )


def working(day: date) -> bool:
    return day.isoweekday() < 6 and day not in _bank(day.year)


def working_days_before(day: date, n: int) -> date:
    """The nth working day before ``day`` (``day`` not counted)."""
    while n:
        day -= timedelta(days=1)
        n -= working(day)
    return day


def due(returned_day: date) -> date:
    """Offered by the end of the 3rd working day after the return's London day."""
    day, counted = returned_day, 0
    while counted < 3:
        day += timedelta(days=1)
        counted += working(day)
    return day


def expected_section(returned_day: date, now: datetime) -> str:
    day = due(returned_day)
    end = datetime.combine(day + timedelta(days=1), time(0), LONDON)
    if end <= now:
        return "Overdue"
    return "Due today" if day == now.astimezone(LONDON).date() else "Coming up"


def sections(html: str) -> dict[str, str]:
    """Each section's heading and its HTML, up to the next section."""
    parts = re.split(r'<h2 class="govuk-heading-m" id="\w+">', html)[1:]
    return {p.split("<", 1)[0].strip(): p for p in parts}


def form(**overrides: Any) -> dict[str, Any]:
    """A whole, good record: offered and completed an hour ago, one reason."""
    at = (datetime.now(UTC) - timedelta(hours=1)).astimezone(LONDON)
    then = {"day": str(at.day), "month": str(at.month), "year": str(at.year)}
    body: dict[str, Any] = {
        "offered": "yes",
        **{f"offered_at-{k}": v for k, v in then.items()},
        "offered_at-time": f"{at:%H:%M}",
        "offered_by": "independent_provider",
        "accepted": "yes",
        **{f"completed_at-{k}": v for k, v in then.items()},
        "completed_at-time": f"{at:%H:%M}",
        "reasons": ["family_friends_contact", "peer_influence"],
        "concerns": [],
        "notes": "Went to see her brother.",
    }
    body.update(overrides)
    return body


async def returned(rig: Rig, ref: str, at: datetime, name: str) -> str:
    episode = await rig.episode(ref, at - timedelta(hours=6), given_name=name)
    await rig.found(episode, at)
    await rig.interview(episode)
    return episode


def hours_ago(hours: int) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


def london_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), LONDON).astimezone(UTC)


async def test_the_list_sorts_interviews_by_the_3_working_day_rule(rig: Rig):
    now = datetime.now(UTC)
    today = now.astimezone(LONDON).date()
    four_back = working_days_before(today, 4)
    three_back = working_days_before(today, 3)
    await returned(rig, "KNT-1", london_noon(four_back), "Olive")
    await returned(rig, "KNT-2", london_noon(three_back), "Dara")
    await returned(rig, "KNT-3", now - timedelta(minutes=30), "Cleo")
    staff = await rig.api.person("staff")

    page = await staff.http.get("/return-interviews")

    assert page.status_code == 200
    assert "<title>Return interviews \N{EN DASH} Lantern</title>" in page.text
    found = sections(page.text)
    assert list(found)[:3] == ["Overdue", "Due today", "Coming up"]
    assert expected_section(four_back, now) == "Overdue"  # 4 working days ago
    assert "Olive Taylor" in found["Overdue"]
    assert "Dara Taylor" in found[expected_section(three_back, now)]
    assert "Cleo Taylor" in found[expected_section(today, now)]
    assert "Cleo Taylor" in found["Coming up"]  # returned today: due in 3 days
    assert f"{due(four_back):%a %-d %b %Y}" in found["Overdue"]
    assert found["Overdue"].count("/return-interviews/") == 1


async def test_a_bad_field_shows_by_the_field_and_records_nothing(rig: Rig):
    when = datetime.now(UTC) - timedelta(hours=3)
    episode = await returned(rig, "KNT-1", when, "Olive")
    staff = await rig.api.person("staff")
    tomorrow = datetime.now(UTC).astimezone(LONDON) + timedelta(days=1)
    before = await rig.events(episode)

    answer = await staff.submit(
        f"/return-interviews/{episode}",
        form(**{"completed_at-day": str(tomorrow.day),
                "completed_at-month": str(tomorrow.month),
                "completed_at-year": str(tomorrow.year)}),
    )  # fmt: skip

    assert answer.status_code == 422
    html = answer.text
    assert "<title>Error: Return interview \N{EN DASH} Lantern</title>" in html
    assert '<a href="#completed_at-day">Date completed is in the future</a>' in html
    group = html.split('id="completed_at-hint"', 1)[0].rsplit("<div class=", 1)[1]
    assert "govuk-form-group--error" in group
    by_field = html.split('id="completed_at-hint"', 1)[1].split("</fieldset>", 1)[0]
    assert "govuk-error-message" in by_field
    assert "Date completed is in the future" in by_field
    kept = 'id="completed_at-day" name="completed_at-day" type="text"'
    assert f'{kept} inputmode="numeric" value="{tomorrow.day}"' in html
    assert "Went to see her brother." in html  # the input kept
    assert 'value="peer_influence" checked' in html
    assert await rig.events(episode) == before == ["ReturnInterviewOpened"]
    api = (await rig.api.get(f"/v1/episodes/{episode}/return-interview",
                             client="oncall")).json()  # fmt: skip
    assert api["offered"] is False and api["completed_at"] is None


async def test_a_reason_not_in_the_taxonomy_is_the_apis_error(rig: Rig):
    episode = await returned(rig, "KNT-1", hours_ago(3), "Olive")
    staff = await rig.api.person("staff")

    answer = await staff.submit(
        f"/return-interviews/{episode}", form(reasons=["conflict", "made_up"])
    )
    api = await rig.put(episode, {"offered": False, "reasons": ["conflict", "made_up"]})

    reason = api.json()["detail"][0]["reason"]
    assert reason == "is not a reason code of taxonomy v1"
    assert answer.status_code == 422
    assert f'<a href="#reasons">Reasons {reason}</a>' in answer.text
    assert await rig.events(episode) == ["ReturnInterviewOpened"]


async def test_a_good_form_records_by_the_person_and_shows_in_the_api(rig: Rig):
    episode = await returned(rig, "KNT-1", hours_ago(3), "Olive")
    staff = await rig.api.person("staff")
    before = await staff.http.get(f"/return-interviews/{episode}")
    assert before.status_code == 200
    assert "<title>Return interview \N{EN DASH} Lantern</title>" in before.text
    assert "Olive" not in before.text.split("</title>")[0]

    answer = await staff.submit(f"/return-interviews/{episode}", form())

    assert answer.status_code == 303
    assert answer.headers["location"] == "/return-interviews?recorded=true"
    listed = await staff.http.get(answer.headers["location"])
    assert "govuk-notification-banner--success" in listed.text
    assert "Return interview recorded" in listed.text
    got = (await rig.api.get(f"/v1/episodes/{episode}/return-interview",
                             client="oncall")).json()  # fmt: skip
    assert got["status"] == "completed"
    assert got["offered_by"] == "independent_provider" and got["accepted"] is True
    assert got["reasons"] == ["family_friends_contact", "peer_influence"]
    assert got["notes"] == "Went to see her brother."
    stream = await rig.api.store.read_stream(f"interview-{episode}")
    made = [e for e in stream if e.type != "ReturnInterviewOpened"]
    assert len(made) == 5
    assert {e.actor for e in made} == {f"person:{staff.person_id}"}
    again = await staff.submit(f"/return-interviews/{episode}", form())
    assert again.status_code == 303
    assert len(await rig.events(episode)) == len(stream)  # the same form: nothing new


async def test_a_form_without_its_csrf_token_is_refused(rig: Rig):
    episode = await returned(rig, "KNT-1", hours_ago(3), "Olive")
    staff = await rig.api.person("staff")

    answer = await staff.http.post(f"/return-interviews/{episode}", data=form())
    forged = await staff.http.post(
        f"/return-interviews/{episode}", data={**form(), "csrf_token": "forged"}
    )

    assert answer.status_code == 403 and forged.status_code == 403
    assert "This form could not be sent" in answer.text
    assert await rig.events(episode) == ["ReturnInterviewOpened"]


async def test_an_episode_without_a_return_has_no_form(rig: Rig):
    episode = await rig.episode("KNT-1", datetime.now(UTC) - timedelta(hours=3))
    await rig.handled_all()  # SQLite: one writer at a time
    staff = await rig.api.person("staff")
    answer = await staff.http.get(f"/return-interviews/{episode}")
    assert answer.status_code == 404
