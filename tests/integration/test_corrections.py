"""Council staff read any episode with its return interview, and correct an episode
after the fact (its type, the return time), on a real store over real HTTP; a
corrected return moves the interview's deadlines (DOMAIN.md §9 rules 12-13)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.integration.test_returns import (
    LONDON,
    NOW,
    RECORD,
    Rig,
    plain_due_date,
)
from tests.waiting import eventually


async def patch(rig: Rig, episode_id: str, body: dict[str, Any]) -> Any:
    return await rig.api.http.patch(
        f"/v1/episodes/{episode_id}", json=body, headers=rig.api.auth("oncall")
    )


async def staff_view(rig: Rig, episode_id: str) -> dict[str, Any]:
    response = await rig.api.get(f"/v1/episodes/{episode_id}", client="oncall")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def returned(rig: Rig, days_ago: float = 1) -> tuple[str, datetime]:
    back = NOW - timedelta(days=days_ago)
    episode = await rig.episode("KNT-1", back - timedelta(hours=10))
    await rig.found(episode, back)
    await rig.interview(episode)
    return episode, back


class TestStaffReadAnEpisode:
    async def test_staff_see_the_interview_with_its_outcome(self, rig: Rig):
        episode, back = await returned(rig)
        body = {
            **RECORD,
            "offered_at": (back + timedelta(hours=2)).isoformat(),
            "completed_at": (back + timedelta(hours=20)).isoformat(),
        }
        assert (await rig.put(episode, body)).status_code == 200

        seen = await staff_view(rig, episode)
        assert seen["status"] == "found" and seen["timeline"]
        assert datetime.fromisoformat(seen["found_at"]) == back
        interview = seen["return_interview"]
        assert date.fromisoformat(interview["due_date"]) == plain_due_date(back)
        assert datetime.fromisoformat(interview["due_72h_at"]) == back + timedelta(
            hours=72
        )
        assert interview["status"] == "completed"
        assert (interview["offered"], interview["accepted"]) == (True, True)
        assert interview["late"] is False
        assert interview["reasons"] == ["family_friends_contact", "peer_influence"]
        assert interview["concerns"] == ["cse"]
        assert interview["notes"] == RECORD["notes"]

    async def test_the_police_never_get_the_interview(self, rig: Rig):
        episode, _ = await returned(rig)
        response = await rig.api.get(f"/v1/episodes/{episode}")
        assert response.status_code == 200
        assert "return_interview" not in response.json()
        other = await rig.api.get(f"/v1/episodes/{episode}", client="met")
        assert other.status_code == 404

    async def test_before_the_return_staff_see_no_interview_yet(self, rig: Rig):
        episode = await rig.episode("KNT-1", NOW - timedelta(hours=3))
        seen = await staff_view(rig, episode)
        assert seen["return_interview"] is None and seen["found_at"] is None


class TestCorrectTheReturnTime:
    async def test_the_deadlines_follow_the_corrected_return(self, rig: Rig):
        episode, back = await returned(rig, days_ago=6)
        later = back + timedelta(days=2)
        response = await patch(
            rig,
            episode,
            {"found_at": later.isoformat(), "reason": "The home's log says so"},
        )
        assert response.status_code == 202, response.text
        assert response.json()["recorded"] == ["ReturnTimeCorrected"]
        [corrected] = [
            e
            for e in await rig.api.store.read_stream(f"episode-{episode}")
            if e.type == "ReturnTimeCorrected"
        ]
        assert corrected.actor == "client:oncall"
        assert corrected.data["reason"] == "The home's log says so"
        assert datetime.fromisoformat(corrected.data["previous"]) == back

        async def rescheduled() -> dict[str, Any] | None:
            got = await rig.interview(episode)
            return got if datetime.fromisoformat(got["returned_at"]) == later else None

        got = await eventually(rescheduled, what="interview rescheduled")
        assert datetime.fromisoformat(got["returned_at"]) == later
        assert date.fromisoformat(got["due_date"]) == plain_due_date(later)
        assert datetime.fromisoformat(got["due_72h_at"]) == later + timedelta(hours=72)
        end = datetime.combine(
            plain_due_date(later) + timedelta(days=1), datetime.min.time(), LONDON
        )
        assert datetime.fromisoformat(got["overdue_at"]) == end
        assert "ReturnInterviewRescheduled" in await rig.events(episode)
        assert (
            datetime.fromisoformat((await staff_view(rig, episode))["found_at"])
            == later
        )

    async def test_the_same_return_again_changes_nothing(self, rig: Rig):
        episode, back = await returned(rig)
        body = {"found_at": back.isoformat(), "reason": "Checked"}
        before = await rig.api.store.read_stream(f"episode-{episode}")
        response = await patch(rig, episode, body)
        assert response.status_code == 200 and response.json()["recorded"] == []
        assert len(await rig.api.store.read_stream(f"episode-{episode}")) == len(before)

    @pytest.mark.parametrize(
        "found_at",
        [
            pytest.param(timedelta(hours=-11), id="before missing_since"),
            pytest.param(timedelta(days=3), id="in the future"),
        ],
    )
    async def test_an_impossible_return_is_422_naming_found_at(
        self, rig: Rig, found_at: timedelta
    ):
        episode, back = await returned(rig)
        before = await rig.api.store.read_stream(f"episode-{episode}")
        response = await patch(
            rig, episode, {"found_at": (back + found_at).isoformat(), "reason": "x"}
        )
        assert response.status_code == 422, response.text
        assert [p["field"] for p in response.json()["detail"]] == ["found_at"]
        assert len(await rig.api.store.read_stream(f"episode-{episode}")) == len(before)

    async def test_an_episode_not_yet_returned_has_no_return_to_correct(self, rig: Rig):
        episode = await rig.episode("KNT-1", NOW - timedelta(hours=3))
        response = await patch(
            rig, episode, {"found_at": NOW.isoformat(), "reason": "x"}
        )
        assert response.status_code == 409, response.text


class TestCorrectTheType:
    async def test_a_closed_episode_is_reclassified_by_staff(self, rig: Rig):
        episode, _ = await returned(rig)
        response = await patch(
            rig, episode, {"episode_type": "away", "reason": "She was at her aunt's"}
        )
        assert response.status_code == 202, response.text
        assert response.json()["recorded"] == ["EpisodeReclassified"]
        [event] = [
            e
            for e in await rig.api.store.read_stream(f"episode-{episode}")
            if e.type == "EpisodeReclassified"
        ]
        assert (event.data["previous"], event.data["episode_type"]) == (
            "missing",
            "away",
        )
        assert (event.data["role"], event.data["by"]) == ("staff", "client:oncall")
        assert (await staff_view(rig, episode))["episode_type"] == "away"
        again = await patch(
            rig, episode, {"episode_type": "away", "reason": "She was at her aunt's"}
        )
        assert again.status_code == 200 and again.json()["recorded"] == []

    async def test_both_at_once_are_two_events(self, rig: Rig):
        episode, back = await returned(rig)
        response = await patch(
            rig,
            episode,
            {
                "episode_type": "away",
                "found_at": (back - timedelta(hours=1)).isoformat(),
                "reason": "The carer's account",
            },
        )
        assert response.json()["recorded"] == [
            "EpisodeReclassified",
            "ReturnTimeCorrected",
        ]

    async def test_nothing_to_correct_is_422(self, rig: Rig):
        episode, _ = await returned(rig)
        response = await patch(rig, episode, {"reason": "x"})
        assert response.status_code == 422
        assert [p["field"] for p in response.json()["detail"]] == ["episode_type"]

    async def test_the_police_may_not_correct(self, rig: Rig):
        episode, _ = await returned(rig)
        response = await rig.api.http.patch(
            f"/v1/episodes/{episode}",
            json={"episode_type": "away", "reason": "x"},
            headers=rig.api.auth("kent"),
        )
        assert response.status_code == 403
