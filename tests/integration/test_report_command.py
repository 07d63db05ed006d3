"""`lantern report panel`: the report of a store whose events are appended as the
services append them (children's records, reports, reclassifications, returns,
withdrawals, interviews, conferences), the read model kept by the projector alone;
the file is the plain computation's figures. Other suffixes are refused."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from events.contracts.children import (
    CarePeriod,
    ChildRecorded,
    FamilyGroupConferenceRecorded,
)
from events.contracts.missing import (
    Child,
    ChildFound,
    ChildMatch,
    EpisodeReclassified,
    EpisodeType,
    MissingReported,
    Placement,
    PlacementType,
    ReportWithdrawn,
    RiskGrade,
    WithdrawalReason,
)
from events.contracts.returns import (
    OfferedBy,
    ReturnInterviewAccepted,
    ReturnInterviewCompleted,
    ReturnInterviewOffered,
    ReturnInterviewRefused,
    ReturnReasonsRecorded,
)
from events.envelope import NewEvent
from events.registry import Event
from events.store import Append, Commit
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from services.cli import app
from services.processes import projectors
from tests.reports_world import PERIOD, Ep, World, edges, expected

KIND = {"M": EpisodeType.missing, "A": EpisodeType.away}
BENCHMARKS = {"incidents_per_looked_after_child": {"England": 0.79, "South East": 0.75}}


def events_of(world: World) -> list[tuple[str, list[Event]]]:
    streams: list[tuple[str, list[Event]]] = []
    for kid in world.kids:
        record = ChildRecorded(
            la_child_id=kid.id, given_name="Child", family_name=kid.id,
            date_of_birth=kid.dob, looked_after=True, uasc=kid.uasc,
            placing_authority=kid.placing, ola=kid.placing != "886",
            care_periods=[CarePeriod(start_date=s, end_date=e) for s, e in kid.periods],
        )  # fmt: skip
        streams.append((f"child-{kid.id}", [record]))
    for ep in sorted(world.eps, key=lambda e: e.start):
        streams.append((f"episode-{ep.id}", episode_events(ep)))
    for child, held in world.conferences:
        conference = FamilyGroupConferenceRecorded(la_child_id=child, held_on=held)
        streams.append((f"child-{child}", [conference]))
    return streams


def episode_events(ep: Ep) -> list[Event]:
    eid = uuid.uuid5(uuid.NAMESPACE_URL, ep.id)
    out: list[Event] = [
        MissingReported(
            episode_id=eid, police_force="KENT", police_reference=ep.id,
            reported_at=ep.start, missing_since=ep.start,
            episode_type=KIND[ep.reported_as], police_risk_grade=RiskGrade.medium,
            child=Child(la_child_id=ep.child, given_name="Child",
                        family_name=ep.child, date_of_birth=date(2010, 1, 1),
                        gender="female"),
            placement=Placement(placing_authority="886",
                                placement_type=PlacementType.foster_care),
            match=ChildMatch(status="matched", la_child_id=ep.child, candidates=1),
        )
    ]  # fmt: skip
    if ep.reported_as != ep.kind:
        out.append(
            EpisodeReclassified(
                episode_id=eid, previous=KIND[ep.reported_as],
                episode_type=KIND[ep.kind], reason="Whereabouts learnt",
                by="client:oncall", role="staff", reclassified_at=ep.start,
            )
        )  # fmt: skip
    if ep.in_error or ep.cancelled:
        reason = WithdrawalReason.reported_in_error if ep.in_error else "cancelled"
        out.append(
            ReportWithdrawn(
                episode_id=eid, withdrawn_at=ep.start, reason=WithdrawalReason(reason)
            )
        )
    if ep.end is None:
        return out
    out.append(
        ChildFound(episode_id=eid, found_at=ep.end, returned_to="placement",
                   safe_and_well_check=True)
    )  # fmt: skip
    if ep.offered:
        at = ep.end + timedelta(hours=1)
        out.append(
            ReturnInterviewOffered(
                episode_id=eid, offered_at=at, offered_by=OfferedBy.social_worker
            )
        )
    if ep.accepted is not None:
        answer = ReturnInterviewAccepted if ep.accepted else ReturnInterviewRefused
        out.append(answer(episode_id=eid, recorded_at=ep.end))
    if ep.completed:
        out.append(
            ReturnInterviewCompleted(
                episode_id=eid, completed_at=ep.completed, late=False
            )
        )
    if ep.reasons:
        out.append(
            ReturnReasonsRecorded(
                episode_id=eid, taxonomy_version="1", reasons=ep.reasons,
                concerns=[], recorded_at=ep.end,
            )
        )  # fmt: skip
    return out


def append_world(database: str, world: World) -> None:
    async def append() -> None:
        store = SqlEventStore(create_engine(database), projectors=projectors())
        try:
            for stream, events in events_of(world):
                news = [NewEvent(event=e) for e in events]
                await store.commit(Commit([Append(stream, news)]))
        finally:
            await store.close()

    asyncio.run(append())


def lantern(database: str, *args: str):
    return CliRunner().invoke(app, list(args), env={"LANTERN_DATABASE_URL": database})


def test_the_command_writes_the_report(sqlite_database: str, tmp_path: Path):
    world = edges()
    append_world(sqlite_database, world)
    out = tmp_path / "report.json"
    start, end = PERIOD
    done = lantern(sqlite_database, "report", "panel", "--from", start.isoformat(),
                   "--to", end.isoformat(), "--out", str(out))  # fmt: skip
    assert done.exit_code == 0, done.output
    assert json.loads(out.read_text()) == expected(world, start, end, BENCHMARKS)


def test_the_command_writes_the_page(database_url: str, tmp_path: Path):
    world = edges()
    append_world(database_url, world)
    out = tmp_path / "report.html"
    start, end = PERIOD
    done = lantern(database_url, "report", "panel", "--from", start.isoformat(),
                   "--to", end.isoformat(), "--out", str(out))  # fmt: skip
    assert done.exit_code == 0, done.output
    html = out.read_text(encoding="utf-8")
    want = expected(world, start, end, BENCHMARKS)
    assert html.startswith("<!DOCTYPE html>")
    assert f'<td class="n">{want["looked_after_children"]:,}</td>' in html
    assert f"{want['children_missing_pct']:.1f}%" in html
    assert html.count("<svg ") == 4
    assert "What is working well" in html


HEADINGS = [
    "Looked-after children missing from placement",
    "What is working well",
    "What are we worried about",
    "Children missing each month",
    "Why citizen children go missing",
    "Return interviews",
    "Incidents per looked-after child against the benchmarks",
    "1 June 2025 to 31 May 2026",
]


def test_the_command_prints_the_page_to_pdf(database_url: str, tmp_path: Path):
    append_world(database_url, edges())
    out = tmp_path / "report.pdf"
    start, end = PERIOD
    done = lantern(database_url, "report", "panel", "--from", start.isoformat(),
                   "--to", end.isoformat(), "--out", str(out))  # fmt: skip
    assert done.exit_code == 0, done.output
    assert out.read_bytes().startswith(b"%PDF-")
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    pages = int(re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE)[1])  # type: ignore[index]
    assert pages >= 3
    assert "A4" in info
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert [h for h in HEADINGS if h not in text] == []
    assert text.count("Generated ") >= pages  # the header of every page


@pytest.mark.parametrize("name", ["report.csv", "report"])
def test_other_outputs_are_refused(sqlite_database: str, tmp_path: Path, name: str):
    out = tmp_path / name
    done = lantern(sqlite_database, "report", "panel", "--from", "2026-01-01",
                   "--to", "2026-02-01", "--out", str(out))  # fmt: skip
    assert done.exit_code == 2
    assert "write .json, .html or .pdf" in done.output
    assert not out.exists()


def test_reversed_dates_are_refused(sqlite_database: str, tmp_path: Path):
    done = lantern(sqlite_database, "report", "panel", "--from", "2026-02-01",
                   "--to", "2026-01-01", "--out", str(tmp_path / "r.json"))  # fmt: skip
    assert done.exit_code == 2
    assert "--to must be after from" in done.output
