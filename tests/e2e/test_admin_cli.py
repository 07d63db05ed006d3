"""Administration from the command line: API clients, the children's records, the
notifier's recipients directory, the risk policy and the read models."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from events.contracts.missing import Child, ChildMatch, MissingReported, Placement
from events.contracts.triage import Factor, RiskAssessed, RiskReassessed
from events.envelope import NewEvent
from events.registry import Event
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from events.streams import Category, stream_name
from services.api.auth import ClientRegistry
from services.cli import app
from services.intake.children_csv import COLUMNS
from services.processes import projectors
from services.records.tables import children, episodes


def _lantern(database: str, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(
        app, list(args), env={"LANTERN_DATABASE_URL": database, **(env or {})}
    )


def _authenticates(database: str, token: str) -> bool:
    async def check() -> bool:
        store = SqlEventStore(create_engine(database))
        try:
            return await ClientRegistry(store.engine).authenticate(token) is not None
        finally:
            await store.close()

    return asyncio.run(check())


def test_client_tokens_are_created_rotated_and_revoked(sqlite_database: str):
    created = _lantern(
        sqlite_database,
        "clients",
        "create",
        "--name",
        "kent",
        "--role",
        "police",
        "--force",
        "KENT",
    )
    token = created.output.strip().splitlines()[-1]
    assert created.exit_code == 0 and token.startswith("lnt_")
    assert _authenticates(sqlite_database, token)

    rotated = _lantern(sqlite_database, "clients", "rotate", "kent")
    new_token = rotated.output.strip().splitlines()[-1]
    assert not _authenticates(sqlite_database, token)
    assert _authenticates(sqlite_database, new_token)

    assert _lantern(sqlite_database, "clients", "revoke", "kent").exit_code == 0
    assert not _authenticates(sqlite_database, new_token)
    listed = _lantern(sqlite_database, "clients", "list").output
    assert "kent\tpolice\tKENT\trevoked" in listed
    assert new_token not in listed


def test_police_client_needs_a_force(sqlite_database: str):
    result = _lantern(
        sqlite_database, "clients", "create", "--name", "x", "--role", "police"
    )
    assert result.exit_code == 2
    assert "--force is required" in result.stderr


def _csv(tmp_path: Path, *rows: dict[str, str]) -> str:
    lines = [",".join(COLUMNS)]
    for row in rows:
        lines.append(",".join(row.get(c, "") for c in COLUMNS))
    path = tmp_path / "children.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


CHILD = {
    "la_child_id": "C1",
    "given_name": "Sam",
    "family_name": "Taylor",
    "date_of_birth": "2011-05-14",
    "looked_after": "true",
    "uasc": "false",
    "placing_authority": "886",
    "ola": "false",
    "social_worker_name": "Alex Morgan",
    "social_worker_email": "a.morgan@example.org",
}


def _stored(database: str) -> int:
    return len(_events(database))


def _events(database: str, stream: str | None = None) -> list:
    async def read() -> list:
        store = SqlEventStore(create_engine(database))
        try:
            return await (store.read_stream(stream) if stream else store.read_all())
        finally:
            await store.close()

    return asyncio.run(read())


def test_children_import_records_every_row(sqlite_database: str, tmp_path: Path):
    path = _csv(tmp_path, CHILD, {**CHILD, "la_child_id": "C2", "given_name": "Jo"})
    result = _lantern(sqlite_database, "children", "import", path)
    assert result.exit_code == 0, result.output
    assert "recorded 2 child(ren)" in result.output
    assert _stored(sqlite_database) == 2


def test_one_bad_row_records_nothing_and_names_line_and_field(
    sqlite_database: str, tmp_path: Path
):
    bad = {**CHILD, "la_child_id": "C2", "date_of_birth": "14/05/2011"}
    path = _csv(tmp_path, CHILD, bad)
    result = _lantern(sqlite_database, "children", "import", path)
    assert result.exit_code == 2
    assert "line 3: date_of_birth:" in result.stderr
    assert _stored(sqlite_database) == 0


def test_history_import_records_a_folder_once_with_its_progress(
    sqlite_database: str, tmp_path: Path
):
    assert _lantern(sqlite_database, "children", "import", _csv(tmp_path, CHILD))
    folder = tmp_path / "kent-2025"
    folder.mkdir()
    (folder / "episodes.csv").write_text(
        "la_child_id,episode_type,start,end,rhi_offered,rhi_accepted,"
        "rhi_completed_at,reasons\n"
        "C1,M,2025-12-19T17:00:00Z,2025-12-19T18:00:00Z,Y,Y,2025-12-22T10:00:00Z,"
        "conflict\n"
    )
    first = _lantern(sqlite_database, "history", "import", str(folder))
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == "recorded 7 event(s) for 1 child(ren)"
    assert "children" in first.stderr and "1/1" in first.stderr
    again = _lantern(sqlite_database, "history", "import", str(folder))
    assert again.stdout.strip() == "recorded 0 event(s) for 1 child(ren)"
    assert {e.actor for e in _events(sqlite_database)[1:]} == {"history:kent-2025"}


def test_history_import_with_a_bad_row_imports_nothing(
    sqlite_database: str, tmp_path: Path
):
    (tmp_path / "family_group_conferences.csv").write_text(
        "la_child_id,held_on\nC1,2025-06-01\nC9,2025-06-01\n"
    )
    result = _lantern(sqlite_database, "history", "import", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "family_group_conferences.csv:2: la_child_id: no child 'C1' on record "
        "(lantern children import first)",
        "family_group_conferences.csv:3: la_child_id: no child 'C9' on record "
        "(lantern children import first)",
        "nothing imported",
    ]
    assert _stored(sqlite_database) == 0


DEMO_RECIPIENTS = str(Path(__file__).parents[2] / "deploy" / "demo" / "recipients.csv")
DEMO_RECEIVER = {"LANTERN_CHANNELS__WEBHOOK__ALLOWED_HOSTS": "127.0.0.1"}
"""The demo's webhooks go to `lantern webhooks receive` on loopback (README)."""


def test_recipients_import_list_and_remove(sqlite_database: str):
    imported = _lantern(
        sqlite_database, "recipients", "import", DEMO_RECIPIENTS, env=DEMO_RECEIVER
    )
    assert imported.exit_code == 0, imported.output
    assert "recorded 7 recipient(s), 0 unchanged" in imported.output
    [event] = _events(sqlite_database, stream_name(Category.recipient, "duty-team"))
    assert event.actor == "cli:recipients-import"

    listed = _lantern(sqlite_database, "recipients", "list").output
    assert (
        "out-of-hours\tout_of_hours\t-\tEmergency Duty Team (demo)\temail,sms" in listed
    )
    assert "@" not in listed and "+447" not in listed
    shown = _lantern(sqlite_database, "recipients", "list", "--show-addresses")
    assert "edt@council.example\t+447700900001\t-" in shown.output

    again = _lantern(
        sqlite_database, "recipients", "import", DEMO_RECIPIENTS, env=DEMO_RECEIVER
    )
    assert "recorded 0 recipient(s), 7 unchanged" in again.output
    removed = _lantern(sqlite_database, "recipients", "remove", "escalation-2")
    assert removed.exit_code == 0
    assert _events(sqlite_database, stream_name(Category.recipient, "escalation-2"))[
        -1
    ].actor == ("cli:recipients-remove")
    unknown = _lantern(sqlite_database, "recipients", "remove", "escalation-2")
    assert unknown.exit_code == 2
    assert "no recipient 'escalation-2'" in unknown.stderr


def test_recipients_import_refuses_webhooks_to_hosts_not_allowed(
    sqlite_database: str,
):
    result = _lantern(sqlite_database, "recipients", "import", DEMO_RECIPIENTS)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"line {line}: webhook_url: must be https" for line in (2, 4, 7)
    ]
    assert _stored(sqlite_database) == 0


def test_recipients_import_with_a_bad_row_records_nothing(
    sqlite_database: str, tmp_path: Path
):
    path = tmp_path / "recipients.csv"
    path.write_text(
        "recipient_id,kind,key,name,email,phone,webhook_url\n"
        "duty,duty_team,,Duty,duty@council.example,,\n"
        "tm,team_manager,,Manager,tm@council.example,01632 960000,\n"
    )
    result = _lantern(sqlite_database, "recipients", "import", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "line 3: key: is required for team_manager: the team's name, as the child's"
        " record has it",
        "line 3: phone: is not a UK mobile number (07… or +447…)",
    ]
    assert _stored(sqlite_database) == 0


EPISODE = "834afcaf-8984-552a-8739-fbaab73947ec"


def _record_episode(database: str, *events: Event) -> None:
    async def record() -> None:
        store = SqlEventStore(create_engine(database), projectors=projectors())
        try:
            for event in events:
                await store.append(
                    stream_name(Category.episode, EPISODE),
                    [NewEvent(event=event)],
                    expected_version=None,
                )
        finally:
            await store.close()

    asyncio.run(record())


def _report() -> MissingReported:
    return MissingReported(
        episode_id=EPISODE, police_force="KENT", police_reference="KNT-DOC-0001",
        reported_at="2026-11-26T15:10:00Z", missing_since="2026-11-26T13:30:00Z",
        episode_type="missing", police_risk_grade="medium",
        child=Child(given_name="Ada", family_name="Fictitious",
                    date_of_birth="2009-03-14", gender="female"),
        placement=Placement(placing_authority="886", placement_type="childrens_home"),
        match=ChildMatch(status="unmatched"),
    )  # fmt: skip


def _assessed(cls: type[RiskAssessed], level: str, at: str, **more) -> RiskAssessed:
    factors = [
        Factor(code="police_grade", source="police", evidence="medium", weight=35,
               exploitation=False),
        Factor(code="county_lines", source="youth_justice",
               evidence="county lines concern", weight=35, exploitation=True),
    ]  # fmt: skip
    return cls(
        episode_id=EPISODE, level=level, score=70, factors=factors,
        actions=["strategy_discussion", "mcet_referral"],
        sources_answered=["youth_justice"], sources_missing=["cse"],
        policy_version="2026-11-26.1", assessed_at=at, **more,
    )  # fmt: skip


def test_policy_explain_says_why_an_episode_has_its_level(sqlite_database: str):
    _record_episode(
        sqlite_database,
        _report(),
        _assessed(RiskAssessed, "medium", "2026-11-26T15:10:05Z", trigger="reported"),
    )
    assert _lantern(sqlite_database, "policy", "explain", EPISODE).output == (
        _explained_once()
    )
    _record_episode(
        sqlite_database,
        _assessed(RiskReassessed, "high", "2026-11-26T15:40:00Z",
                  trigger="InformationAdded", previous_level="medium", added=[],
                  removed=[]),
    )  # fmt: skip
    result = _lantern(sqlite_database, "policy", "explain", EPISODE)
    assert result.exit_code == 0
    assert result.output == (
        "level high (score 70; policy 2026-11-26.1; assessed"
        " 2026-11-26T15:40:00+00:00 on InformationAdded)\n"
        "\n"
        "factor                  weight  source          evidence\n"
        "police_grade                35  police          medium\n"
        "county_lines                35  youth_justice   county lines concern\n"
        "\n"
        "actions: strategy_discussion, mcet_referral\n"
        "sources answered: youth_justice\n"
        "sources NOT answered: cse\n"
        "\n"
        "history:\n"
        "  2026-11-26T15:10:05+00:00  reported               -> medium\n"
        "  2026-11-26T15:40:00+00:00  InformationAdded       -> high\n"
    )


def _explained_once() -> str:
    return (
        "level medium (score 70; policy 2026-11-26.1; assessed"
        " 2026-11-26T15:10:05+00:00 on reported)\n"
        "\n"
        "factor                  weight  source          evidence\n"
        "police_grade                35  police          medium\n"
        "county_lines                35  youth_justice   county lines concern\n"
        "\n"
        "actions: strategy_discussion, mcet_referral\n"
        "sources answered: youth_justice\n"
        "sources NOT answered: cse\n"
    )


def test_policy_explain_of_an_episode_not_assessed_or_unknown(sqlite_database: str):
    _record_episode(sqlite_database, _report())
    assert _lantern(sqlite_database, "policy", "explain", EPISODE).output == (
        "not assessed yet\n"
    )
    unknown = _lantern(sqlite_database, "policy", "explain", str(uuid.uuid4()))
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("no episode ")


def test_policy_check_names_what_is_wrong(sqlite_database: str, tmp_path: Path):
    valid = _lantern(sqlite_database, "policy", "check")
    assert (valid.exit_code, valid.output) == (
        0, "policy 2026-12-03.1 is valid\n",
    )  # fmt: skip
    bad = tmp_path / "bad.toml"
    bad.write_text("version = 'x'\n")
    refused = _lantern(sqlite_database, "policy", "check", str(bad))
    assert refused.exit_code == 2
    assert refused.stderr.startswith("invalid setting LANTERN_TRIAGE_POLICY_FILE:")
    assert "thresholds" in refused.stderr


def test_projections_rebuild_shows_its_progress(sqlite_database: str, tmp_path: Path):
    path = _csv(tmp_path, CHILD, {**CHILD, "la_child_id": "C2", "given_name": "Jo"})
    _lantern(sqlite_database, "children", "import", path)
    _record_episode(sqlite_database, _report())

    async def emptied() -> int:
        store = SqlEventStore(create_engine(sqlite_database))
        try:
            async with store.engine.begin() as conn:
                await conn.execute(children.delete())
                await conn.execute(episodes.delete())
            return len(await store.select(select(children.c.la_child_id)))
        finally:
            await store.close()

    assert asyncio.run(emptied()) == 0
    result = _lantern(sqlite_database, "projections", "rebuild")
    assert result.exit_code == 0, result.output
    assert result.stderr == "replayed 3 of 3 events\n"
    assert result.stdout == "replayed 3 events\n"

    async def rows() -> tuple[int, int]:
        store = SqlEventStore(create_engine(sqlite_database))
        try:
            kids = await store.select(select(children.c.la_child_id))
            kept = await store.select(select(episodes.c.episode_id))
            return len(kids), len(kept)
        finally:
            await store.close()

    assert asyncio.run(rows()) == (2, 1)
