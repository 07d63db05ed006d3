"""The events of a council's history: the same facts as a live episode at their own
times, as history, ids derived from the facts (the same folder makes the same ids)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from events.contracts.children import CarePeriod, ChildRecorded
from events.contracts.returns import Deadline
from services.history.files import EPISODES, parse_history
from services.history.plan import FORCE, Entry, history_entries

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
CHILD = ChildRecorded(
    la_child_id="C1", given_name="Ada", family_name="Fictitious",
    date_of_birth=date(2010, 1, 1), looked_after=True, uasc=False,
    placing_authority="886", ola=False,
)  # fmt: skip
HEADER = (
    "la_child_id,episode_type,start,end,rhi_offered,rhi_accepted,"
    "rhi_completed_at,reasons"
)


def plan(*rows: str, now: datetime = NOW) -> list[Entry]:
    history, problems = parse_history({EPISODES: [HEADER, *rows]}, {"C1"}, now)
    assert problems == []
    groups = history_entries(
        history, deadline=Deadline.working_days, now=now, actor="history:kent-2025"
    )
    return [entry for _, make in groups for entry in make(CHILD)]


def types(entries: list[Entry]) -> list[str]:
    return [new.event.type_name for _, new in entries]


def test_a_completed_episode_is_reported_found_and_interviewed_at_its_times() -> None:
    entries = plan(
        "C1,M,2025-12-19T17:00Z,2025-12-19T18:00Z,Y,Y,2025-12-22T10:00Z,conflict"
    )
    assert types(entries) == [
        "MissingReported", "ChildFound", "ReturnInterviewOpened",
        "ReturnInterviewOffered", "ReturnInterviewAccepted",
        "ReturnInterviewCompleted", "ReturnReasonsRecorded",
    ]  # fmt: skip
    report = entries[0][1].event
    assert report.police_force == FORCE  # type: ignore[attr-defined]
    assert report.match.la_child_id == "C1"  # type: ignore[attr-defined]
    opened = entries[2][1].event
    assert opened.due_date == date(2025, 12, 24)  # type: ignore[attr-defined]
    assert entries[5][1].event.late is False  # type: ignore[attr-defined]
    assert [new.occurred_at.isoformat() for _, new in entries[:2]] == [
        "2025-12-19T17:00:00+00:00",
        "2025-12-19T18:00:00+00:00",
    ]
    assert {new.actor for _, new in entries} == {"history:kent-2025"}


def test_a_past_due_interview_neither_completed_nor_refused_is_overdue() -> None:
    entries = plan("C1,M,2025-12-19T17:00Z,2025-12-19T18:00Z,Y,,,")
    assert types(entries)[-1] == "ReturnInterviewOverdue"
    assert entries[-1][1].occurred_at == datetime(2025, 12, 25, tzinfo=UTC)


def test_a_refused_or_not_yet_due_interview_is_not_overdue() -> None:
    refused = plan("C1,M,2025-12-19T17:00Z,2025-12-19T18:00Z,Y,N,,")
    recent = plan("C1,M,2026-12-02T17:00Z,2026-12-02T18:00Z,,,,")
    assert "ReturnInterviewOverdue" not in types(refused) + types(recent)
    assert types(refused)[-1] == "ReturnInterviewRefused"


def test_missing_again_before_the_deadline_supersedes_and_is_covered() -> None:
    entries = plan(
        "C1,M,2025-12-19T17:00Z,2025-12-19T18:00Z,,,,",
        "C1,A,2025-12-22T17:00Z,2025-12-23T08:00Z,,,,",
    )
    superseded = [new for _, new in entries if "Superseded" in new.event.type_name]
    opened = [new.event for _, new in entries if "Opened" in new.event.type_name]
    assert len(superseded) == 1
    assert superseded[0].occurred_at == datetime(2025, 12, 22, 17, tzinfo=UTC)
    assert opened[1].covers == [opened[0].episode_id]  # type: ignore[attr-defined]
    assert types(entries).count("ReturnInterviewOverdue") == 1  # the second only


def test_the_same_rows_make_the_same_ids_and_an_open_episode_only_a_report() -> None:
    rows = (
        "C1,M,2025-12-19T17:00Z,2025-12-19T18:00Z,Y,Y,,",
        "C1,M,2026-01-19T17:00Z,,,,,",
    )
    first, again = plan(*rows), plan(*reversed(rows))
    assert [n.event_id for _, n in first] == [n.event_id for _, n in again]
    assert types(first)[-1] == "MissingReported"


def test_care_periods_make_a_record_only_when_they_change() -> None:
    header = "la_child_id,start_date,end_date"
    history, _ = parse_history(
        {"care_periods.csv": [header, "C1,2020-01-01,"]}, {"C1"}, NOW
    )
    [(child, make)] = history_entries(
        history, deadline=Deadline.working_days, now=NOW, actor="h:x"
    )
    assert child == "C1"
    assert make(CHILD)[0][1].event.care_periods == [  # type: ignore[attr-defined]
        CarePeriod(start_date=date(2020, 1, 1))
    ]
    same = CHILD.model_copy(
        update={"care_periods": [CarePeriod(start_date=date(2020, 1, 1))]}
    )
    assert make(same) == []
