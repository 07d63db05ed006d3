"""A child's history for staff, and the Missing Family Group Conferences in it, on a
real store over real HTTP: every episode (reports withdrawn as made in error left
out) with its return, duration, risk and interview; each conference with the
episodes in the three calendar months either side; frequently missing now."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from events.contracts.missing import RiskGrade
from events.contracts.triage import RiskAssessed
from events.envelope import NewEvent
from tests.integration.test_returns import NOW, RECORD, Rig

CHILD = {"given_name": "Sam", "family_name": "Taylor", "date_of_birth": "2011-05-14",
         "looked_after": True, "uasc": False, "placing_authority": "886",
         "ola": False}  # fmt: skip
HELD_ON = date(2026, 5, 31)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def known_child(rig: Rig, la_child_id: str = "C1") -> None:
    response = await rig.api.http.put(
        f"/v1/children/{la_child_id}", json=CHILD, headers=rig.api.auth("cms")
    )
    assert response.status_code == 200, response.text


async def episode(
    rig: Rig, ref: str, since: datetime, episode_type: str = "missing"
) -> str:
    body = {
        "police_force": "KENT",
        "police_reference": ref,
        "reported_at": (since + timedelta(minutes=30)).isoformat(),
        "missing_since": since.isoformat(),
        "episode_type": episode_type,
        "police_risk_grade": "medium",
        "child": {
            "la_child_id": "C1",
            "given_name": "Sam",
            "family_name": "Taylor",
            "date_of_birth": "2011-05-14",
            "gender": "female",
        },
        "placement": {"placing_authority": "886", "placement_type": "childrens_home"},
    }
    response = await rig.api.post("/v1/missing-reports", body)
    assert response.status_code == 202, response.text
    return str(response.json()["episode_id"])


async def withdrawn_in_error(rig: Rig, ref: str, since: datetime) -> str:
    withdrawn = await episode(rig, ref, since)
    response = await rig.api.post(
        f"/v1/episodes/{withdrawn}/withdrawal", {"reason": "reported_in_error"}
    )
    assert response.status_code == 202, response.text
    return withdrawn


async def conference(rig: Rig, held_on: Any, child: str = "C1") -> Any:
    return await rig.api.post(
        f"/v1/children/{child}/family-group-conferences",
        {"held_on": str(held_on)},
        client="oncall",
    )


async def history(rig: Rig, child: str = "C1") -> dict[str, Any]:
    response = await rig.api.get(f"/v1/children/{child}/history", client="oncall")
    assert response.status_code == 200, response.text
    return dict(response.json())


class TestFamilyGroupConferences:
    async def test_recorded_once_per_day(self, rig: Rig):
        await known_child(rig)
        first = await conference(rig, HELD_ON)
        assert first.status_code == 201, first.text
        assert first.json()["recorded"] == ["FamilyGroupConferenceRecorded"]
        [recorded] = [
            e
            for e in await rig.api.store.read_stream("child-C1")
            if e.type == "FamilyGroupConferenceRecorded"
        ]
        assert recorded.data["held_on"] == "2026-05-31"
        assert recorded.actor == "client:oncall"

        again = await conference(rig, HELD_ON)
        assert again.status_code == 200 and again.json()["recorded"] == []
        assert len(await rig.api.store.read_stream("child-C1")) == 2
        another = await conference(rig, HELD_ON + timedelta(days=1))
        assert another.status_code == 201
        held = [c["held_on"] for c in (await history(rig))["family_group_conferences"]]
        assert held == ["2026-05-31", "2026-06-01"]

    @pytest.mark.parametrize(
        "held_on",
        [
            pytest.param(NOW.date() + timedelta(days=2), id="in the future"),
            pytest.param("2026-13-01", id="not a date"),
            pytest.param("2026-05-31T10:00:00Z", id="a time"),
        ],
    )
    async def test_a_day_that_cannot_be_is_422_naming_held_on(self, rig: Rig, held_on):
        await known_child(rig)
        response = await conference(rig, held_on)
        assert response.status_code == 422, response.text
        assert [p["field"] for p in response.json()["detail"]] == ["held_on"]
        assert len(await rig.api.store.read_stream("child-C1")) == 1

    async def test_an_unknown_child_is_404(self, rig: Rig):
        assert (await conference(rig, HELD_ON, child="C404")).status_code == 404
        assert (await rig.api.get("/v1/children/C404/history",
                                  client="oncall")).status_code == 404  # fmt: skip
        assert await rig.api.store.read_stream("child-C404") == []

    async def test_the_police_may_not_record_one(self, rig: Rig):
        await known_child(rig)
        response = await rig.api.post(
            "/v1/children/C1/family-group-conferences", {"held_on": str(HELD_ON)}
        )
        assert response.status_code == 403


class TestHistory:
    async def test_episodes_either_side_of_a_conference(self, rig: Rig):
        await known_child(rig)
        ids = {
            "a": await episode(rig, "KNT-A", at("2026-02-27T10:00:00Z")),
            "b": await episode(rig, "KNT-B", at("2026-02-28T10:00:00Z")),
            "c": await episode(rig, "KNT-C", at("2026-05-30T10:00:00Z")),
            # 00:30 on 31 May in London (BST): the conference's day, so after it
            "d": await episode(rig, "KNT-D", at("2026-05-30T23:30:00Z"), "away"),
            "e": await episode(rig, "KNT-E", at("2026-08-30T10:00:00Z")),
            "f": await episode(rig, "KNT-F", at("2026-08-31T10:00:00Z")),
        }
        await withdrawn_in_error(rig, "KNT-W", at("2026-05-20T10:00:00Z"))
        assert (await conference(rig, HELD_ON)).status_code == 201

        got = await history(rig)
        assert [e["episode_id"] for e in got["episodes"]] == list(ids.values())
        [held] = got["family_group_conferences"]
        # Restated: 31 May less 3 months is 28 February (no 31st); plus 3 months,
        # 31 August, the first day past the window after.
        assert (held["before_from"], held["after_until"]) == (
            "2026-02-28",
            "2026-08-31",
        )
        assert held["before"] == [ids["b"], ids["c"]]
        assert held["after"] == [ids["d"], ids["e"]]
        assert (held["episodes_before"], held["episodes_after"]) == (2, 2)

    async def test_each_episode_with_its_return_risk_and_interview(self, rig: Rig):
        await known_child(rig)
        since = at("2026-03-02T09:00:00Z")
        returned = since + timedelta(hours=26, minutes=30)
        listed = await episode(rig, "KNT-1", since)
        await rig.found(listed, returned)
        opened = await rig.interview(listed)
        await assessed(rig, listed, RiskGrade.high)
        completed = at(opened["overdue_at"]) + timedelta(days=2)
        body = {
            **RECORD,
            "offered_at": (completed - timedelta(hours=3)).isoformat(),
            "completed_at": completed.isoformat(),
        }
        assert (await rig.put(listed, body)).status_code == 200
        still_open = await episode(rig, "KNT-2", NOW - timedelta(hours=2))

        first, second = (await history(rig))["episodes"]
        assert first["episode_id"] == listed and first["status"] == "found"
        assert first["episode_type"] == "missing"
        assert (at(first["missing_since"]), at(first["found_at"])) == (since, returned)
        assert first["duration_hours"] == 26.5
        assert first["risk_level"] == "high"
        interview = first["return_interview"]
        assert interview["status"] == "completed" and interview["late"] is True
        assert interview["reasons"] == ["family_friends_contact", "peer_influence"]
        assert interview["concerns"] == ["cse"]
        assert "notes" not in interview
        assert second["episode_id"] == still_open
        assert second["found_at"] is None and second["duration_hours"] is None
        assert second["risk_level"] is None and second["return_interview"] is None

    async def test_frequently_missing_is_three_missing_in_ninety_days(self, rig: Rig):
        await known_child(rig)
        await episode(rig, "KNT-OLD", NOW - timedelta(days=91))
        await episode(rig, "KNT-1", NOW - timedelta(days=80))
        await episode(rig, "KNT-2", NOW - timedelta(days=10))
        await episode(rig, "KNT-AWAY", NOW - timedelta(days=5), "away")
        await withdrawn_in_error(rig, "KNT-ERR", NOW - timedelta(days=3))

        got = (await history(rig))["frequently_missing"]
        # Restated: missing (not away, not withdrawn in error) in the last 90 days.
        assert got == {"now": False, "missing_episodes": 2, "threshold": 3,
                       "days": 90}  # fmt: skip
        await episode(rig, "KNT-3", NOW - timedelta(hours=2))
        got = (await history(rig))["frequently_missing"]
        assert (got["now"], got["missing_episodes"]) == (True, 3)

    async def test_the_police_may_not_read_it(self, rig: Rig):
        await known_child(rig)
        assert (await rig.api.get("/v1/children/C1/history")).status_code == 403


async def assessed(rig: Rig, episode_id: str, level: RiskGrade) -> None:
    """As triage records it (it is not running here)."""
    event = RiskAssessed(
        episode_id=episode_id, level=level, score=80, factors=[], actions=[],
        sources_answered=[], sources_missing=[], policy_version="test",
        assessed_at=NOW, trigger="report",
    )  # fmt: skip
    await rig.api.store.append(
        f"episode-{episode_id}", [NewEvent(event=event)], expected_version=None
    )
