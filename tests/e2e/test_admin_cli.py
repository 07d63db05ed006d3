"""Administration from the command line: API clients, the children's records and
the notifier's recipients directory."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from events.streams import Category, stream_name
from services.api.auth import ClientRegistry
from services.cli import app
from services.intake.children_csv import COLUMNS


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
