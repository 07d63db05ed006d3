"""Return interviews on a real store, over real HTTP: opened on the return with its
deadlines (DOMAIN.md §9 rules 12-13), superseded when the child goes missing again
before it is due (rule 14), recorded by staff, listed, and recorded overdue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from prometheus_client import REGISTRY

from services.returns import metrics
from services.returns.bootstrap import ReturnsService, bootstrap
from services.returns.settings import ReturnsSettings
from tests.api import Api, a_report_body
from tests.waiting import eventually

LONDON = ZoneInfo("Europe/London")
NOW = datetime.now(UTC).replace(microsecond=0)


def plain_due_date(returned_at: datetime) -> date:
    """Rule 13 restated: count 3 weekdays that are not E&W bank holidays, after the
    London date of the return."""
    day, counted = returned_at.astimezone(LONDON).date(), 0
    bank = holidays.country_holidays("GB", subdiv="ENG", years=[day.year, day.year + 1])
    while counted < 3:
        day += timedelta(days=1)
        if day.isoweekday() < 6 and day not in bank:
            counted += 1
    return day


@dataclass
class Clock:
    now: datetime = field(default=NOW)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    api: Api
    service: ReturnsService
    clock: Clock

    async def episode(self, ref: str, missing_since: datetime, **child: Any) -> str:
        body = a_report_body(
            ref,
            missing_since=missing_since.isoformat(),
            reported_at=(missing_since + timedelta(minutes=30)).isoformat(),
        )
        body["child"].update(child)
        response = await self.api.post("/v1/missing-reports", body)
        assert response.status_code == 202, response.text
        return str(response.json()["episode_id"])

    async def found(self, episode_id: str, at: datetime) -> None:
        response = await self.api.post(
            f"/v1/episodes/{episode_id}/found",
            {
                "found_at": at.isoformat(),
                "returned_to": "placement",
                "safe_and_well_check": True,
            },
        )
        assert response.status_code == 202, response.text

    async def handled_all(self) -> None:
        head = await self.api.store.head()

        async def caught_up() -> bool:
            return await self.api.store.checkpoint("returns", "store") >= head

        await eventually(caught_up, what="returns caught up")

    async def interview(self, episode_id: str) -> dict[str, Any]:
        async def opened() -> dict[str, Any] | None:
            r = await self.api.get(
                f"/v1/episodes/{episode_id}/return-interview", client="oncall"
            )
            return r.json() if r.status_code == 200 else None

        return await eventually(opened, what="interview opened")

    async def put(self, episode_id: str, body: dict[str, Any]) -> Any:
        return await self.api.http.put(
            f"/v1/episodes/{episode_id}/return-interview",
            json=body,
            headers=self.api.auth("oncall"),
        )

    async def events(self, episode_id: str) -> list[str]:
        return [
            e.type for e in await self.api.store.read_stream(f"interview-{episode_id}")
        ]


async def test_the_return_opens_an_interview_with_both_deadlines(rig: Rig):
    returned = NOW - timedelta(hours=2)
    episode = await rig.episode("KNT-1", NOW - timedelta(days=1))
    await rig.found(episode, returned)
    got = await rig.interview(episode)
    assert got["status"] == "due"
    assert date.fromisoformat(got["due_date"]) == plain_due_date(returned)
    assert datetime.fromisoformat(got["due_72h_at"]) == returned + timedelta(hours=72)
    assert got["deadline"] == "3_working_days"
    end = datetime.combine(
        plain_due_date(returned) + timedelta(days=1), datetime.min.time(), LONDON
    )
    assert datetime.fromisoformat(got["overdue_at"]) == end
    [opened] = await rig.api.store.read_stream(f"interview-{episode}")
    assert opened.actor == "returns" and opened.causation_id is not None

    listed = (await rig.api.get("/v1/return-interviews", client="oncall")).json()
    assert [i["episode_id"] for i in listed["items"]] == [episode]
    assert listed["items"][0]["due_date"] == got["due_date"]


async def test_the_police_cannot_read_or_record_interviews(rig: Rig):
    assert (await rig.api.get("/v1/return-interviews")).status_code == 403
    episode = await rig.episode("KNT-1", NOW - timedelta(days=1))
    response = await rig.api.http.put(
        f"/v1/episodes/{episode}/return-interview",
        json={"offered": False},
        headers=rig.api.auth("kent"),
    )
    assert response.status_code == 403


async def test_missing_again_before_the_due_date_supersedes_the_interview(rig: Rig):
    first = await rig.episode("KNT-1", NOW - timedelta(days=2))
    returned = NOW - timedelta(days=1)
    await rig.found(first, returned)
    await rig.interview(first)
    second = await rig.episode("KNT-2", returned + timedelta(hours=5))
    await rig.handled_all()
    got = await rig.interview(first)
    assert got["status"] == "superseded" and got["superseded_by"] == second

    await rig.found(second, NOW - timedelta(hours=1))
    later = await rig.interview(second)
    assert later["covers"] == [first] and later["status"] == "due"
    superseded = (
        await rig.api.get("/v1/return-interviews?status=superseded", client="oncall")
    ).json()["items"]
    assert [i["episode_id"] for i in superseded] == [first]


async def test_another_childs_episode_supersedes_nothing(rig: Rig):
    first = await rig.episode("KNT-1", NOW - timedelta(days=2))
    await rig.found(first, NOW - timedelta(days=1))
    await rig.interview(first)
    await rig.episode("KNT-2", NOW - timedelta(hours=5), given_name="Other")
    await rig.handled_all()
    assert (await rig.interview(first))["status"] == "due"


RECORD = {
    "offered": True,
    "offered_by": "independent_provider",
    "accepted": True,
    "reasons": ["family_friends_contact", "peer_influence"],
    "concerns": ["cse"],
    "notes": "Went to see her brother.",
}


async def _returned(rig: Rig, days_ago: float = 1) -> tuple[str, datetime]:
    returned = NOW - timedelta(days=days_ago)
    episode = await rig.episode("KNT-1", returned - timedelta(hours=10))
    await rig.found(episode, returned)
    await rig.interview(episode)
    return episode, returned


async def test_each_change_is_its_own_event_and_a_repeat_changes_nothing(rig: Rig):
    episode, returned = await _returned(rig)
    body = {
        **RECORD,
        "offered_at": (returned + timedelta(hours=2)).isoformat(),
        "completed_at": (returned + timedelta(hours=20)).isoformat(),
    }
    first = await rig.put(episode, body)
    assert first.status_code == 200, first.text
    assert first.json()["recorded"] == [
        "ReturnInterviewOffered",
        "ReturnInterviewAccepted",
        "ReturnInterviewCompleted",
        "ReturnReasonsRecorded",
        "ReturnInterviewNotesRecorded",
    ]
    assert first.json()["status"] == "completed" and first.json()["late"] is False
    before = await rig.events(episode)
    again = await rig.put(episode, body)
    assert again.status_code == 200 and again.json()["recorded"] == []
    assert await rig.events(episode) == before
    listed = (
        await rig.api.get("/v1/return-interviews?status=completed", client="oncall")
    ).json()
    assert [i["episode_id"] for i in listed["items"]] == [episode]


async def test_a_refusal_is_recorded_and_listed(rig: Rig):
    episode, returned = await _returned(rig)
    body = {
        "offered": True,
        "offered_by": "social_worker",
        "accepted": False,
        "offered_at": (returned + timedelta(hours=1)).isoformat(),
    }
    response = await rig.put(episode, body)
    assert response.json()["recorded"] == [
        "ReturnInterviewOffered",
        "ReturnInterviewRefused",
    ]
    assert response.json()["status"] == "refused"
    listed = (
        await rig.api.get("/v1/return-interviews?status=refused", client="oncall")
    ).json()
    assert [i["episode_id"] for i in listed["items"]] == [episode]


async def test_completed_after_the_due_date_is_allowed_and_late(rig: Rig):
    episode, returned = await _returned(rig, days_ago=9)
    got = await rig.interview(episode)
    completed = datetime.fromisoformat(got["overdue_at"]) + timedelta(hours=1)
    body = {
        **RECORD,
        "offered_at": (returned + timedelta(hours=2)).isoformat(),
        "completed_at": completed.isoformat(),
    }
    response = await rig.put(episode, body)
    assert response.status_code == 200, response.text
    assert response.json()["late"] is True


def _at(returned: datetime, hours: float) -> str:
    return (returned + timedelta(hours=hours)).isoformat()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param(
            {"completed_at": -1}, "completed_at", id="completed before return"
        ),
        pytest.param(
            {"completed_at": 24 * 30}, "completed_at", id="completed in future"
        ),
        pytest.param(
            {
                "offered": False,
                "offered_at": None,
                "offered_by": None,
                "completed_at": None,
            },
            "accepted",
            id="accepted without offered",
        ),
        pytest.param(
            {"accepted": None}, "completed_at", id="completed without accepted"
        ),
        pytest.param(
            {"reasons": ["family_friends_contact", "boredom"]},
            "reasons[1]",
            id="an unknown reason code",
        ),
        pytest.param({"concerns": ["theft"]}, "concerns.0", id="an unknown concern"),
        pytest.param({"offered_by": None}, "offered_by", id="offered by nobody"),
    ],
)
async def test_impossible_records_are_422_naming_the_field(rig: Rig, change, field):
    episode, returned = await _returned(rig)
    body: dict[str, Any] = {
        **RECORD,
        "offered_at": _at(returned, 1),
        "completed_at": _at(returned, 2),
    }
    for key, value in change.items():
        body[key] = _at(returned, value) if type(value) is int else value
    response = await rig.put(episode, body)
    assert response.status_code == 422, response.text
    assert field in [p["field"] for p in response.json()["detail"]]
    assert await rig.events(episode) == ["ReturnInterviewOpened"]


async def test_no_interview_before_the_return(rig: Rig):
    episode = await rig.episode("KNT-1", NOW - timedelta(days=1))
    assert (await rig.put(episode, {"offered": False})).status_code == 404


async def test_the_deadline_passing_records_overdue_once_even_after_a_restart(
    rig: Rig,
):
    episode, _ = await _returned(rig)
    done, _ = await _returned_other(rig)
    got = await rig.interview(episode)
    overdue_at = datetime.fromisoformat(got["overdue_at"])

    refresh = metrics.probe(rig.api.store)
    rig.clock.now = overdue_at - timedelta(seconds=1)
    assert await rig.service.overdue.mark_overdue() == 0
    await refresh()
    assert interviews() == {"due": 1, "overdue": 0}  # the other one was done
    rig.clock.now = overdue_at
    await rig.service.overdue.mark_overdue()
    await refresh()
    assert interviews() == {"due": 0, "overdue": 1}
    assert await rig.events(episode) == [
        "ReturnInterviewOpened",
        "ReturnInterviewOverdue",
    ]
    assert await rig.events(done) == ["ReturnInterviewOpened", *DONE_EVENTS]

    restarted = bootstrap(ReturnsSettings(), rig.api.store, now=rig.clock)
    assert await restarted.overdue.mark_overdue() == 0
    assert (await rig.events(episode)).count("ReturnInterviewOverdue") == 1
    [overdue] = (await rig.api.store.read_stream(f"interview-{episode}"))[1:]
    assert overdue.data["due_date"] == got["due_date"]
    listed = (
        await rig.api.get("/v1/return-interviews?status=overdue", client="oncall")
    ).json()
    assert [i["episode_id"] for i in listed["items"]] == [episode]


def interviews() -> dict[str, float | None]:
    """The gauges as the returns process exports them."""
    return {
        kind: REGISTRY.get_sample_value(f"lantern_interviews_{kind}")
        for kind in ("due", "overdue")
    }


DONE_EVENTS = [
    "ReturnInterviewOffered",
    "ReturnInterviewAccepted",
    "ReturnInterviewCompleted",
    "ReturnReasonsRecorded",
    "ReturnInterviewNotesRecorded",
]


async def _returned_other(rig: Rig) -> tuple[str, datetime]:
    returned = NOW - timedelta(days=1)
    episode = await rig.episode(
        "KNT-9", returned - timedelta(hours=10), given_name="Jo"
    )
    await rig.found(episode, returned)
    await rig.interview(episode)
    body = {**RECORD, "offered_at": _at(returned, 1), "completed_at": _at(returned, 2)}
    assert (await rig.put(episode, body)).status_code == 200
    return episode, returned


async def test_listing_pages_with_a_cursor(rig: Rig):
    ids = []
    for n in range(3):
        episode = await rig.episode(
            f"KNT-{n}", NOW - timedelta(days=1), given_name=f"C{n}"
        )
        await rig.found(episode, NOW - timedelta(hours=1))
        await rig.interview(episode)
        ids.append(episode)
    first = (
        await rig.api.get("/v1/return-interviews?status=all&limit=2", client="oncall")
    ).json()
    rest = (
        await rig.api.get(
            f"/v1/return-interviews?status=all&limit=2&cursor={first['next_cursor']}",
            client="oncall",
        )
    ).json()
    assert [i["episode_id"] for i in first["items"] + rest["items"]] == ids
    assert rest["next_cursor"] is None
