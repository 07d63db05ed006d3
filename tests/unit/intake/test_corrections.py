"""Corrections after the fact, pure: one event per field that differs, closed
episodes too; the reclassification route's own path still refuses closed ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from events.contracts.missing import (
    ChildFound,
    ChildMatch,
    EpisodeReclassified,
    EpisodeType,
    ReturnedTo,
    ReturnTimeCorrected,
)
from events.registry import Event
from services.intake import decide
from services.intake.schemas import (
    EpisodeCorrection,
    MissingReportCreate,
    Reclassification,
)
from tests.api import a_report_body

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def found_episode(found_at: datetime) -> tuple[list[Event], decide.Episode]:
    report = MissingReportCreate.model_validate(a_report_body())
    reported = decide.report_missing(
        report, match=ChildMatch(status="unmatched"), existing=None
    )
    assert isinstance(reported, list)
    found = ChildFound(
        episode_id=decide.episode_id_for(report.police_force, report.police_reference),
        found_at=found_at,
        returned_to=ReturnedTo.placement,
        safe_and_well_check=True,
    )
    events = [*reported, found]
    episode = decide.fold(events)
    assert episode is not None
    return events, episode


def test_a_closed_episode_is_corrected_one_event_per_field():
    back = NOW - timedelta(hours=1)
    recorded, episode = found_episode(back)
    made = decide.correct(
        EpisodeCorrection(
            episode_type=EpisodeType.away,
            found_at=back - timedelta(minutes=30),
            reason="The home's log",
        ),
        episode,
        by="client:oncall",
        now=NOW,
    )
    assert isinstance(made, list)
    reclassified, corrected = made
    assert isinstance(reclassified, EpisodeReclassified)
    assert (reclassified.role, reclassified.by) == ("staff", "client:oncall")
    assert isinstance(corrected, ReturnTimeCorrected)
    assert corrected.previous == back
    assert corrected.found_at == back - timedelta(minutes=30)
    after = decide.fold([*recorded, *made])
    assert after is not None and after.found_at == corrected.found_at


def test_the_same_values_again_are_a_repeat():
    back = NOW - timedelta(hours=1)
    _, episode = found_episode(back)
    same = EpisodeCorrection(
        episode_type=EpisodeType.missing, found_at=back, reason="Checked"
    )
    assert isinstance(
        decide.correct(same, episode, by="client:oncall", now=NOW), decide.Repeat
    )


def test_the_reclassification_route_still_refuses_a_closed_episode():
    _, episode = found_episode(NOW - timedelta(hours=1))
    command = Reclassification(episode_type=EpisodeType.away, reason="x")
    refused = decide.reclassify(
        command, episode, by="client:kent", role="police", now=NOW
    )
    assert isinstance(refused, decide.Conflict)
