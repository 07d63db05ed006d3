"""The `lantern` command as users run it: embedded default and separate processes."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from events.store import Commit, Parking
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from services.cli import app
from tests.builders import a_stream, happened
from tests.channel_servers import WEBHOOK_SECRET, Receiver
from tests.e2e.processes import (
    free_port,
    lantern,
    log_of,
    run_lantern,
    terminate,
    until_healthy,
)
from tests.notify_server import serve_app
from tests.waiting import HTTP_TIMEOUT, eventually


async def _ready(base: str) -> dict:
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
        response = await client.get(f"{base}/ready")
    return response.json() if response.status_code == 200 else {}


async def _settled(base: str) -> dict:
    """Ready, or degraded: past the checks that fail while the process starts."""
    body = await _ready(base)
    return body if body.get("status") in ("ready", "degraded") else {}


async def test_embedded_default_serves_health_ready_and_docs(tmp_path: Path):
    port = free_port()
    env = {"LANTERN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/lantern.db"}
    process = lantern("run", "--port", str(port), env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        await until_healthy(base)
        body = await eventually(lambda: _settled(base), what="ready")
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
            docs = await client.get(f"{base}/docs")
            openapi = (await client.get(f"{base}/openapi.json")).json()
    finally:
        code = await asyncio.to_thread(terminate, process)

    # No channel set up: it works, but can send nobody anything, and says so.
    assert body["status"] == "degraded"
    assert body["checks"] == {
        "database": True,
        "migrations": True,
        "workers": True,
        "channels": False,
    }
    assert "no delivery channel is set up" in body["problems"]["channels"]
    assert docs.status_code == 200
    assert {"/health", "/ready"} <= set(openapi["paths"])
    assert code == 0, log_of(process)


async def test_the_embedded_reference_sources_answer_lookups_but_take_no_faults(
    tmp_path: Path,
):
    """Anyone who reaches the port must not make every source "down" (and so lower
    a child's assessed risk): fault injection is `lantern sources serve`'s alone."""
    port = free_port()
    env = {"LANTERN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/lantern.db"}
    process = lantern("run", "--port", str(port), env=env)
    base = f"http://127.0.0.1:{port}/reference-sources"
    try:
        await until_healthy(f"http://127.0.0.1:{port}")
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, base_url=base) as client:
            lookup = await client.post(
                "/youth_justice/v1/lookup", json=ADA_REPORT["child"]
            )
            down = await client.put("/_faults/youth_justice", json={"down": True})
            faults = await client.get("/_faults")
            after = await client.post(
                "/youth_justice/v1/lookup", json=ADA_REPORT["child"]
            )
    finally:
        code = await asyncio.to_thread(terminate, process)

    assert lookup.status_code == 200 and lookup.json()["found"] is True
    assert (down.status_code, faults.status_code) == (404, 404)
    assert after.json() == lookup.json()
    assert code == 0, log_of(process)


def test_run_refuses_to_serve_the_reference_data_beyond_loopback(tmp_path: Path):
    env = {"LANTERN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/lantern.db"}
    result = CliRunner().invoke(app, ["run", "--host", "0.0.0.0"], env=env)  # noqa: S104
    assert result.exit_code == 2
    assert "invalid setting LANTERN_HOST" in result.stderr
    assert "LANTERN_DEMO=true" in result.stderr
    assert not (tmp_path / "lantern.db").exists()  # stopped before anything


async def test_a_report_is_triaged_by_separate_processes_on_postgres_and_kafka(
    pg_database: str, kafka_servers: str, topic_prefix: str
):
    port, sources_port = free_port(), free_port()
    env = {
        "LANTERN_DATABASE_URL": pg_database,
        "LANTERN_KAFKA_BOOTSTRAP_SERVERS": kafka_servers,
        "LANTERN_KAFKA_TOPIC_PREFIX": topic_prefix,
        "LANTERN_KAFKA_GROUP_PREFIX": topic_prefix,  # groups of its own
        "LANTERN_RATE_LIMIT_PER_MINUTE": "100000",  # the test polls its episode
        "LANTERN_TRIAGE_RECHECK_S": "1",  # a source slow on a busy machine: soon
        "LANTERN_TRIAGE_REVIEW_POLL_S": "0.5",
        **{
            f"LANTERN_SOURCES__{name.upper()}__BASE_URL": (
                f"http://127.0.0.1:{sources_port}/{name}"
            )
            for name in ("youth_justice", "cme", "cse")
        },
    }
    created = run_lantern(
        "clients",
        "create",
        "--name",
        "kent",
        "--role",
        "police",
        "--force",
        "KENT",
        env=env,
    )
    token = created.stdout.strip().splitlines()[-1]
    processes = [
        lantern("sources", "serve", "--port", str(sources_port), env=env),
        lantern("intake", "--port", str(port), env=env),
        lantern("triage", env=env),
        lantern("notifier", env=env),
        lantern("relay", env=env),
    ]
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        await until_healthy(base)
        await until_healthy(f"http://127.0.0.1:{sources_port}")  # up, as in life
        ready = await eventually(lambda: _ready(base), what="ready")
        async with httpx.AsyncClient(
            timeout=HTTP_TIMEOUT, base_url=base, headers=auth
        ) as http:
            posted = await http.post("/v1/missing-reports", json=ADA_REPORT)
            episode = f"/v1/episodes/{posted.json()['episode_id']}"

            async def assessed() -> dict | None:
                """Once every source has answered (one may miss the first round)."""
                response = await http.get(episode)
                assert response.status_code == 200, response.text
                risk = response.json()["risk_assessment"]
                return risk if risk and not risk["sources_missing"] else None

            assessment = await eventually(assessed, timeout=60, what="triage via Kafka")
    finally:
        codes = [await asyncio.to_thread(terminate, p) for p in processes]

    assert ready["checks"]["database"] and ready["checks"]["migrations"]
    assert posted.status_code == 202
    assert assessment["level"] == "high"
    assert assessment["sources_answered"] == ["cme", "cse", "youth_justice"]
    assert codes == [0, 0, 0, 0, 0], [log_of(p) for p in processes]


ADA_REPORT = {
    "police_force": "KENT",
    "police_reference": "KNT-E2E-1",
    "reported_at": "2026-11-20T14:00:00Z",
    "missing_since": "2026-11-20T12:00:00Z",
    "episode_type": "missing",
    "police_risk_grade": "low",
    "child": {
        "la_child_id": "FICT0001",
        "given_name": "Ada",
        "family_name": "Fictitious",
        "date_of_birth": "2009-03-14",
        "gender": "female",
    },
    "placement": {"placing_authority": "886", "placement_type": "childrens_home"},
}


@pytest.mark.parametrize(
    ("command", "env", "named"),
    [
        (["triage"], {"LANTERN_DATABASE_URL": "mysql://db/x"}, "LANTERN_DATABASE_URL"),
        (["run"], {"LANTERN_PORT": "99999"}, "LANTERN_PORT"),
        (
            ["relay"],
            {"LANTERN_KAFKA_BOOTSTRAP_SERVERS": ""},
            "LANTERN_KAFKA_BOOTSTRAP_SERVERS",
        ),
        (["notifier"], {"LANTERN_LOG_LEVEL": "loud"}, "LANTERN_LOG_LEVEL"),
        *(
            (
                [command],
                {
                    "LANTERN_ENVIRONMENT": "production",
                    "LANTERN_DATABASE_URL": "postgresql://db/lantern",
                    "LANTERN_NOTIFIER_LINK_SECRET": None,  # unset
                },
                "LANTERN_NOTIFIER_LINK_SECRET",
            )
            for command in ("run", "intake", "notifier")
        ),
    ],
)
def test_bad_setting_stops_the_process_naming_it(command, env, named):
    result = CliRunner().invoke(app, command, env=env)
    assert result.exit_code == 2
    assert f"invalid setting {named}" in result.stderr


def test_help_lists_every_command():
    result = run_lantern("--help", env={})
    for command in (
        "run",
        "intake",
        "triage",
        "notifier",
        "relay",
        "db",
        "events",
        "parked",
    ):
        assert command in result.stdout
    for sub in (["run"], ["relay"], ["db", "upgrade"], ["parked", "redrive"]):
        assert CliRunner().invoke(app, [*sub, "--help"]).exit_code == 0


def test_event_schemas_are_exported_for_integrators(tmp_path: Path):
    result = CliRunner().invoke(app, ["events", "schema", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    schemas = [json.loads(p.read_text()) for p in tmp_path.glob("*.json")]
    assert schemas
    for schema in schemas:
        assert schema["$id"].startswith("urn:lantern:schema:")
        assert schema["type"] == "object"


def test_parked_messages_are_listed_and_redriven_from_the_cli(sqlite_database: str):
    env = {"LANTERN_DATABASE_URL": sqlite_database}
    asyncio.run(_park_one(sqlite_database))

    listed = CliRunner().invoke(app, ["parked", "list"], env=env)
    assert "TestHappened" in listed.output and "ValueError: boom" in listed.output
    redriven = CliRunner().invoke(app, ["parked", "redrive", "--all"], env=env)
    assert "1 message(s) queued for redrive" in redriven.output
    assert (
        "0 parked message(s)"
        in CliRunner().invoke(app, ["parked", "list"], env=env).output
    )


async def _park_one(url: str) -> None:
    store = SqlEventStore(create_engine(url))
    event = happened(1)
    await store.append(a_stream(), [event], expected_version=0)
    envelope = await store.read_event(event.event_id)
    assert envelope is not None
    await store.commit(
        Commit(park=Parking("echo", envelope, "store", 1, 5, "ValueError: boom"))
    )
    await store.close()


def test_a_port_already_taken_stops_run_before_anything_starts(tmp_path: Path):
    """Said at once, with exit status 2: not after the workers have started and the
    database was migrated, with uvicorn's own error at the end of the log."""
    database = tmp_path / "lantern.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            app,
            ["run", "--port", str(port)],
            env={"LANTERN_DATABASE_URL": f"sqlite+aiosqlite:///{database}"},
        )
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port (LANTERN_PORT)" in result.stderr
    assert not database.exists()  # nothing migrated, no worker started


def test_the_webhook_receiver_says_where_it_listens():
    port = free_port()
    env = {"LANTERN_CHANNELS__WEBHOOK__SECRET": WEBHOOK_SECRET}
    process = lantern("webhooks", "receive", "--port", str(port), env=env)
    try:
        said = f"receiving webhooks on http://127.0.0.1:{port}/"
        asyncio.run(eventually(lambda: said in log_of(process), what=said))
    finally:
        assert terminate(process) == 0


async def test_an_ack_link_sent_before_a_restart_works_after_it(tmp_path: Path):
    """On the embedded default, with no LANTERN_NOTIFIER_LINK_SECRET: the key is
    made once and kept with the database, not made up again by each start."""
    hooks = Receiver()
    port = free_port()
    env = {
        "LANTERN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/lantern.db",
        "LANTERN_PORT": str(port),
        "LANTERN_NOTIFIER_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LANTERN_CHANNELS__WEBHOOK__SECRET": WEBHOOK_SECRET,
        "LANTERN_CHANNELS__WEBHOOK__ALLOWED_HOSTS": "127.0.0.1",  # the receiver
    }  # and no LANTERN_NOTIFIER_LINK_SECRET
    base = f"http://127.0.0.1:{port}"
    async with serve_app(hooks.app()) as hooks_root:
        token = _police_client_and_duty_team(env, tmp_path, f"{hooks_root}/hooks")
        first = lantern("run", env=env)
        try:
            await until_healthy(base)
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, base_url=base) as http:
                posted = await http.post(
                    "/v1/missing-reports",
                    json=ADA_REPORT,
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert posted.status_code == 202, posted.text
            await eventually(lambda: hooks.received, timeout=60, what="the alert")
        finally:
            assert await asyncio.to_thread(terminate, first) == 0, log_of(first)
    link = json.loads(hooks.received[0][2])["ack_url"]
    assert link.startswith(f"{base}/v1/alerts/")

    again = lantern("run", env=env)
    try:
        await until_healthy(base)
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            page = await http.get(link)
            acknowledged = await http.post(link)
    finally:
        assert await asyncio.to_thread(terminate, again) == 0, log_of(again)
    assert page.status_code == 200, page.text
    assert acknowledged.status_code == 200 and "Acknowledged" in acknowledged.text


def _police_client_and_duty_team(env: dict[str, str], folder: Path, hooks: str) -> str:
    (folder / "recipients.csv").write_text(
        "recipient_id,kind,key,name,email,phone,webhook_url\n"
        f"duty,duty_team,,Duty team,,,{hooks}/duty\n"
    )
    for args in (
        ("db", "upgrade"),
        ("recipients", "import", str(folder / "recipients.csv")),
    ):
        done = run_lantern(*args, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    created = run_lantern(
        "clients", "create", "--name", "kent", "--role", "police", "--force", "KENT",
        env=env,
    )  # fmt: skip
    return created.stdout.strip().splitlines()[-1]
