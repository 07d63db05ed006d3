"""Backup and restore as docs/operations.md describes it, on PostgreSQL: a world
built through the real API with every service running (reports, updates, returns,
interviews, alerts raised, sent and acknowledged), dumped with `pg_dump -Fc`,
restored with `pg_restore` into a new database, its read models wiped there and
rebuilt by `lantern projections rebuild`: every read model holds the same rows, and
the panel report and the statutory exports say the same, as in the source."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from events.runtime import run_workers
from events.store.engine import create_engine
from services.cli import app as cli
from services.intake.decide import episode_id_for
from services.processes import RunSettings, links_for, projectors, workers
from services.triage.policy_file import load_policy
from tests.api import STARTED, Api, a_report_body, serve_api
from tests.channel_servers import WEBHOOK_SECRET, Receiver
from tests.integration.test_reports import ok, record_world
from tests.notify_server import serve_app
from tests.reports_world import PERIOD, World, edges, generate, merged
from tests.waiting import eventually

PG_BIN = Path("/usr/lib/postgresql/15/bin")
LIVE = ("KNT-LIVE-1", "KNT-LIVE-2", "KNT-LIVE-3")
"""Reports of tonight, beside the world's past: updated, one found."""


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def lantern(database: str, *args: str) -> str:
    """A `lantern` command in this process (from a thread: it runs its own loop)."""
    done = CliRunner().invoke(cli, list(args), env={"LANTERN_DATABASE_URL": database})
    assert done.exit_code == 0, done.output
    return done.stdout


def world() -> World:
    return merged(
        edges(),
        generate(22, kids=6, first=date(2025, 1, 1), last=STARTED.date(), now=STARTED),
    )


@asynccontextmanager
async def every_service(api: Api) -> AsyncIterator[None]:
    """Triage, the notifier (sending to a partner's webhook endpoint), returns and
    the webhooks service beside the API, as `lantern run` composes them."""
    settings = RunSettings()
    names = ["triage", "notifier", "returns", "webhooks"]
    links = await links_for(settings, api.store)
    async with workers(settings, api.store, names, load_policy(), links) as running:
        stop = asyncio.Event()
        task = asyncio.create_task(run_workers(running.workers, stop))
        try:
            yield
        finally:
            stop.set()
            await task


def recipients_csv(hooks: str) -> str:
    return (
        "recipient_id,kind,key,name,email,phone,webhook_url\n"
        f"duty,duty_team,,Duty team,,,{hooks}/duty\n"
        f"ooh,out_of_hours,,Out of hours,,,{hooks}/ooh\n"
        f"mcet,mcet,,Police MCET,,,{hooks}/mcet\n"
    )


async def build(api: Api, w: World, receiver: Receiver) -> int:
    """The world's past and tonight's reports through the API; then staff acknowledge
    half of the alerts. The number of episodes."""
    await record_world(api, w)
    for reference in LIVE:
        await ok(await api.post("/v1/missing-reports", a_report_body(reference)))
        episode = episode_id_for("KENT", reference)
        update = {"received_at": STARTED.isoformat(), "police_risk_grade": "high",
                  "reason": "Seen getting into a car with unknown adults"}  # fmt: skip
        await ok(await api.post(f"/v1/episodes/{episode}/updates", update))
    found = {"found_at": STARTED.isoformat(), "returned_to": "placement",
             "safe_and_well_check": True}  # fmt: skip
    await ok(
        await api.post(f"/v1/episodes/{episode_id_for('KENT', LIVE[0])}/found", found)
    )
    episodes = len(w.eps) + len(LIVE)

    async def assessed_and_alerted() -> list[dict[str, Any]]:
        async with api.store.engine.connect() as conn:
            done = await conn.scalar(text("SELECT count(*) FROM assessments"))
        alerts = await ok(await api.get("/v1/alerts?limit=200", client="oncall"))
        return alerts["items"] if done == episodes and receiver.received else []

    alerts = await eventually(assessed_and_alerted, timeout=60, what="every episode")
    for alert in alerts[::2]:
        path = f"/v1/alerts/{alert['alert_id']}/ack"
        await ok(await api.post(path, {}, client="oncall"), 200, 409)
    return episodes


async def read_models(database: str) -> dict[str, set[str]]:
    """Every projection table's rows, as a set of their JSON."""
    conn = await asyncpg.connect(plain(database))
    try:
        found = {}
        for projector in projectors():
            for table in projector.tables:
                rows = await conn.fetch(f"SELECT * FROM {table.name}")  # noqa: S608
                found[table.name] = {
                    json.dumps(dict(r), sort_keys=True, default=str) for r in rows
                }
        return found
    finally:
        await conn.close()


def figures(database: str, folder: Path) -> dict[str, str]:
    """The panel report, SSDA903's Missing table and Annex A's List 8, by the
    product's own commands."""
    folder.mkdir()
    start, end = PERIOD
    lantern(database, "report", "panel", "--from", start.isoformat(),
            "--to", end.isoformat(), "--out", str(folder / "panel.json"))  # fmt: skip
    lantern(database, "export", "ssda903", "--year", "2026", "--out", str(folder))
    lantern(database, "export", "annex-a", "--at", STARTED.date().isoformat(),
            "--out", str(folder / "list8.csv"))  # fmt: skip
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def run(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture
async def restored(pg_url: str) -> AsyncIterator[str]:
    """An empty database of its own, as a restore starts with."""
    name = f"lantern_r_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(plain(pg_url))
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield pg_url.rsplit("/", 1)[0] + "/" + name
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        await admin.close()


async def test_a_restored_dump_rebuilds_the_same_read_models_and_figures(
    pg_database: str, restored: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    for name, value in {
        "LANTERN_CHANNELS__WEBHOOK__SECRET": WEBHOOK_SECRET,
        "LANTERN_CHANNELS__WEBHOOK__ALLOWED_HOSTS": "127.0.0.1",  # the receiver
        "LANTERN_NOTIFIER_LINK_SECRET": "a-link-secret-for-backup-tests-0123456",
        "LANTERN_NOTIFIER_POLL_S": "0.1",
    }.items():
        monkeypatch.setenv(name, value)
    receiver = Receiver()
    async with serve_app(receiver.app()) as root:
        hooks = f"{root}/hooks"
        (tmp_path / "recipients.csv").write_text(recipients_csv(hooks))
        await asyncio.to_thread(
            lantern,
            pg_database,
            "recipients",
            "import",
            str(tmp_path / "recipients.csv"),
        )
        async with serve_api(pg_database) as api, every_service(api):
            episodes = await build(api, world(), receiver)
    source = await read_models(pg_database)
    assert len(source["episodes"]) == episodes and source["return_interviews"]
    assert any('"acknowledged"' in row for row in source["alerts"])
    assert any('"sent"' in row for row in source["deliveries"])
    source_figures = await asyncio.to_thread(figures, pg_database, tmp_path / "source")

    dump = tmp_path / "lantern.dump"
    await asyncio.to_thread(
        run, str(PG_BIN / "pg_dump"), "-Fc", "-f", str(dump), plain(pg_database)
    )
    await asyncio.to_thread(
        run, str(PG_BIN / "pg_restore"), "--no-owner", "--exit-on-error",
        "-d", plain(restored), str(dump),
    )  # fmt: skip
    await wipe(restored)
    assert not any((await read_models(restored)).values())
    replayed = await asyncio.to_thread(lantern, restored, "projections", "rebuild")
    assert replayed.startswith("replayed ")

    assert await read_models(restored) == source
    assert await asyncio.to_thread(figures, restored, tmp_path / "restored") == (
        source_figures
    )


async def wipe(database: str) -> None:
    store_engine = create_engine(database)
    try:
        async with store_engine.begin() as conn:
            for projector in projectors():
                for table in reversed(projector.tables):
                    await conn.execute(table.delete())
    finally:
        await store_engine.dispose()
