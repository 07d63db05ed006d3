"""The history folder's files, checked whole: every rule names its file, line and
field (DOMAIN.md §9 rules 1, 3, 7 and 8), and one bad row leaves nothing to import."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from events.contracts.missing import EpisodeType
from services.history.files import (
    CARE_PERIODS,
    CONFERENCES,
    EPISODES,
    parse_history,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
KNOWN = {"C1", "C2"}
EPISODE_HEADER = (
    "la_child_id,episode_type,start,end,rhi_offered,rhi_accepted,"
    "rhi_completed_at,reasons"
)
GOOD_EPISODE = (
    "C1,M,2025-03-01T22:00:00Z,2025-03-02T09:00:00+00:00,Y,Y,"
    "2025-03-03T10:00:00Z,family_friends_contact;peer_influence"
)


def parse(**files: list[str]):
    names = {"periods": CARE_PERIODS, "episodes": EPISODES, "fgc": CONFERENCES}
    return parse_history({names[k]: v for k, v in files.items()}, KNOWN, NOW)


def episodes(*rows: str) -> list[str]:
    return [EPISODE_HEADER, *rows]


class TestGoodFiles:
    def test_an_episode_row_is_read_with_its_interview(self) -> None:
        history, problems = parse(episodes=episodes(GOOD_EPISODE))
        assert problems == []
        [row] = history.episodes
        assert row.line == 2
        assert row.episode_type is EpisodeType.missing
        assert row.start == datetime(2025, 3, 1, 22, tzinfo=UTC)
        assert (row.offered, row.accepted) == ("Y", "Y")
        assert row.reasons == ("family_friends_contact", "peer_influence")

    def test_an_open_episode_has_blank_end_and_answers(self) -> None:
        history, problems = parse(episodes=episodes("C1,a,2025-03-01T22:00Z,,NA,,,"))
        assert problems == []
        assert history.episodes[0].end is None
        assert history.episodes[0].episode_type is EpisodeType.away

    def test_periods_and_conferences_are_read(self) -> None:
        history, problems = parse(
            periods=["la_child_id,start_date,end_date", "C1,2020-01-01,2021-01-01",
                     "C1,2021-01-01,"],
            fgc=["la_child_id,held_on", "C2,2025-06-01"],
        )  # fmt: skip
        assert problems == []
        assert [p.period.end_date for p in history.care_periods] == [
            date(2021, 1, 1),
            None,
        ]
        assert history.conferences[0].held_on == date(2025, 6, 1)

    def test_an_episode_may_start_when_the_previous_ended(self) -> None:
        _, problems = parse(
            episodes=episodes(
                "C1,M,2025-03-01T22:00Z,2025-03-02T09:00Z,,,,",
                "C1,M,2025-03-02T09:00Z,2025-03-02T19:00Z,,,,",
            )
        )
        assert problems == []


BAD_EPISODES = [
    pytest.param("C1,M,2025-03-01T22:00Z,,yes,,,", "episodes.csv:2: rhi_offered: "
                 "'yes' is not Y, N, NA or blank", id="rule 3: offered not Y/N/NA"),
    pytest.param("C1,M,2025-03-01T22:00Z,2025-03-02T09:00Z,Y,maybe,,",
                 "episodes.csv:2: rhi_accepted: 'maybe' is not Y, N, NA or blank",
                 id="rule 3: accepted not Y/N/NA"),
    pytest.param("C1,M,2025-03-02T22:00Z,2025-03-01T09:00Z,,,,",
                 "episodes.csv:2: end: is before start", id="rule 7: end before start"),
    pytest.param("C1,M,2025-03-01T22:00Z,2025-03-02T09:00Z,,,,gone_fishing",
                 "episodes.csv:2: reasons: 'gone_fishing' not a reason code of "
                 "taxonomy v1", id="unknown reason"),
    pytest.param("C9,M,2025-03-01T22:00Z,,,,,", "episodes.csv:2: la_child_id: no "
                 "child 'C9' on record (lantern children import first)",
                 id="unknown child"),
    pytest.param("C1,M,2025-03-01T22:00:00,,,,,", "episodes.csv:2: start: "
                 "'2025-03-01T22:00:00' has no UTC offset (end it with Z or +01:00)",
                 id="offset-less datetime"),
    pytest.param("C1,M,1 March 2025,,,,,", "episodes.csv:2: start: '1 March 2025' "
                 "is not an ISO 8601 date and time", id="not ISO 8601"),
    pytest.param("C1,X,2025-03-01T22:00Z,,,,,", "episodes.csv:2: episode_type: 'X' "
                 "is not M or A", id="rule 1: episode type"),
    pytest.param("C1,M,,,,,,", "episodes.csv:2: start: is required", id="no start"),
    pytest.param("C1,M,2027-03-01T22:00Z,,,,,", "episodes.csv:2: start: is in the "
                 "future", id="future start"),
    pytest.param("C1,M,2025-03-01T22:00Z,2025-03-02T09:00Z,N,Y,,",
                 "episodes.csv:2: rhi_accepted: needs rhi_offered Y: a child accepts "
                 "an offer", id="accepted without offer"),
    pytest.param("C1,M,2025-03-01T22:00Z,2025-03-02T09:00Z,Y,N,2025-03-03T10:00Z,",
                 "episodes.csv:2: rhi_completed_at: needs rhi_accepted Y",
                 id="completed though refused"),
    pytest.param("C1,M,2025-03-01T22:00Z,2025-03-02T09:00Z,Y,Y,2025-03-02T08:00Z,",
                 "episodes.csv:2: rhi_completed_at: is before the return (end)",
                 id="completed before return"),
    pytest.param("C1,M,2025-03-01T22:00Z,,Y,,,", "episodes.csv:2: rhi_offered: is "
                 "given, but end is blank: no return yet", id="offer while missing"),
]  # fmt: skip


class TestBadRows:
    @pytest.mark.parametrize(("row", "problem"), BAD_EPISODES)
    def test_a_bad_episode_row_is_named_and_nothing_is_kept(
        self, row: str, problem: str
    ) -> None:
        history, problems = parse(episodes=episodes(GOOD_EPISODE, row.replace(
            "C1,", "C1,", 1)))  # fmt: skip
        assert problems == [problem.replace(":2:", ":3:")]
        assert history.episodes == []

    def test_overlapping_episodes_name_the_earlier_line(self) -> None:
        _, problems = parse(
            episodes=episodes(
                "C1,M,2025-03-01T22:00Z,2025-03-05T09:00Z,,,,",
                "C1,M,2025-03-02T09:00Z,2025-03-02T19:00Z,,,,",
                "C1,M,2025-03-04T09:00Z,2025-03-04T19:00Z,,,,",
                "C2,M,2025-03-02T09:00Z,,,,,",
                "C2,A,2025-03-03T09:00Z,,,,,",
            )
        )
        assert problems == [
            "episodes.csv:3: start: overlaps the episode on line 2",
            "episodes.csv:4: start: overlaps the episode on line 2",
            "episodes.csv:6: start: overlaps the episode on line 5",
        ]

    def test_the_same_start_twice_is_a_duplicate(self) -> None:
        _, problems = parse(episodes=episodes(GOOD_EPISODE, GOOD_EPISODE))
        assert problems == ["episodes.csv:3: start: duplicates the episode on line 2"]

    def test_reversed_and_overlapping_periods_are_named_by_line(self) -> None:
        _, problems = parse(
            periods=["la_child_id,start_date,end_date", "C1,2020-01-01,2019-01-01",
                     "C2,2020-01-01,", "C2,2021-01-01,2021-02-01", "C9,2020-01-01,"],
        )  # fmt: skip
        assert problems == [
            "care_periods.csv:5: la_child_id: no child 'C9' on record "
            "(lantern children import first)",
            "care_periods.csv:2: end_date: is before start_date",
            "care_periods.csv:4: start_date: overlaps the period on line 3",
        ]

    def test_conferences_bad_date_unknown_child_and_duplicates(self) -> None:
        _, problems = parse(
            fgc=["la_child_id,held_on", "C1,01/06/2025", "C3,2025-06-01",
                 "C1,2025-06-01", "C1,2025-06-01"],
        )  # fmt: skip
        assert problems == [
            "family_group_conferences.csv:2: held_on: '01/06/2025' is not a date "
            "(YYYY-MM-DD)",
            "family_group_conferences.csv:3: la_child_id: no child 'C3' on record "
            "(lantern children import first)",
            "family_group_conferences.csv:5: held_on: duplicates line 4",
        ]

    def test_a_missing_column_is_named(self) -> None:
        _, problems = parse(fgc=["la_child_id", "C1"])
        assert problems == ["family_group_conferences.csv:1: missing columns: held_on"]

    def test_problems_of_every_file_are_named_together(self) -> None:
        history, problems = parse(
            episodes=episodes("C1,M,2025-03-01T22:00:00,,,,,"),
            fgc=["la_child_id,held_on", "C1,2030-01-01"],
        )
        assert [p.split(":")[0] for p in problems] == [EPISODES, CONFERENCES]
        assert history.episodes == history.conferences == []
