"""Who saw what: every route of the app is classified (services/api/audit.py ROUTES),
and a sample of the routes that touch personal data, called over real HTTP by API
clients and by people signed in to the pages, leave the row they should: the
actor, the operation, the child or episode, the source address and the outcome
(a refusal after authentication too). ``lantern audit`` finds a child's accesses
and an actor's, the commands' own among them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import select
from typer.testing import CliRunner, Result

from services.api import audit
from services.api.audit import ROUTES, Access, command_actor
from services.api.tables import audit_log
from services.cli import app as cli
from tests.api import Api, a_report_body, serve_api
from tests.integration.test_authorisation import CHILD, build_world, report

pytestmark = pytest.mark.postgres_only

NOT_FOUND = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with serve_api(database_url) as api:
        yield api


async def test_every_route_is_classified(api: Api):
    """A new route fails here until ROUTES says whether it reads or changes
    personal data, or why it does neither; a route gone fails here too."""
    document = (await api.http.get("/openapi.json")).json()
    listed = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
    }
    unlisted = {
        f"{method} {route.path}"
        for route in iter_route_contexts(api.app.routes)
        if not getattr(route, "include_in_schema", True)
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }
    assert listed | unlisted == set(ROUTES)
    assert all(getattr(c, "reason", True) for c in ROUTES.values())
    episode = document["paths"]["/v1/episodes/{episode_id}"]
    assert episode["get"]["x-personal-data"] == "read"
    assert episode["patch"]["x-personal-data"] == "change"
    assert "x-personal-data" not in document["paths"]["/health"]["get"]


@dataclass(frozen=True)
class Call:
    caller: str
    """An API client of tests/api.py, or ``person:ROLES`` signed in to the pages."""
    method: str
    path: str
    operation: str
    status: int
    access: Access = Access.read
    body: Any = None
    episode: str | None = None
    child: str | None = None
    detail: str | None = None

    def __str__(self) -> str:
        return f"{self.caller} {self.method} {self.path}"


CALLS = [
    Call("kent", "GET", "/v1/episodes/{kent}", "GET /v1/episodes/{episode_id}", 200,
         episode="kent"),
    # another force's episode: refused, and recorded as the attempt it is
    Call("met", "GET", "/v1/episodes/{kent}", "GET /v1/episodes/{episode_id}", 404,
         episode="kent"),
    Call("kent", "GET", "/v1/episodes?status=open", "GET /v1/episodes", 200,
         detail="status=open"),
    Call("oncall", "GET", "/v1/alerts", "GET /v1/alerts", 200),
    Call("oncall", "GET", "/v1/children/{child}/history",
         "GET /v1/children/{la_child_id}/history", 200, child="child"),
    Call("oncall", "GET", "/v1/return-interviews", "GET /v1/return-interviews", 200),
    Call("cms", "PUT", "/v1/children/C9", "PUT /v1/children/{la_child_id}", 200,
         Access.change, body=CHILD, child="C9"),
    Call("kent", "POST", "/v1/episodes/{kent}/updates",
         "POST /v1/episodes/{episode_id}/updates", 202, Access.change,
         body={"received_at": "2026-01-01T10:00:00+00:00", "information": "Seen"},
         episode="kent"),
    Call("oncall", "POST", "/v1/alerts/{council}/ack", "POST /v1/alerts/{alert_id}/ack",
         200, Access.change, detail="alert_id={council}"),
    # a wrong role, once authenticated, is an attempt too
    Call("kent", "GET", "/v1/children/{child}/history",
         "GET /v1/children/{la_child_id}/history", 403, child="child"),
    Call("person:staff", "GET", "/episodes/{kent}", "GET /episodes/{episode_id}", 200,
         episode="kent"),
    Call("person:staff", "GET", "/episodes/" + NOT_FOUND, "GET /episodes/{episode_id}",
         404, episode=NOT_FOUND),
    Call("person:staff", "GET", "/now", "GET /now", 200),
    Call("person:staff", "GET", "/return-interviews", "GET /return-interviews", 200),
    Call("person:analyst", "GET", "/episodes/{kent}", "GET /episodes/{episode_id}",
         403, episode="kent"),
]  # fmt: skip


@pytest.mark.parametrize("call", CALLS, ids=str)
async def test_an_access_is_recorded(api: Api, call: Call):
    world = await build_world(api)
    world[NOT_FOUND] = NOT_FOUND
    path = call.path.format(**world)
    if call.caller.startswith("person:"):
        browser = await api.person(call.caller.removeprefix("person:"))
        http, headers, actor = browser.http, {}, f"person:{browser.person_id}"
    else:
        http, headers = api.http, api.auth(call.caller)
        actor = f"client:{call.caller}"
    response = await http.request(call.method, path, json=call.body, headers=headers)
    assert response.status_code == call.status, response.text

    rows = await _rows(api, actor=actor, operation=call.operation)
    assert rows, "no row"
    row = rows[-1]  # the world's own calls came first
    assert row["access"] == call.access
    assert row["status"] == call.status
    assert row["source"] == "127.0.0.1"
    episode = world.get(call.episode) if call.episode else None
    assert row["episode_id"] == (UUID(episode) if episode else None)
    assert row["la_child_id"] == (
        world.get(call.child, call.child) if call.child else None
    )
    if call.detail:
        assert row["detail"] == call.detail.format(**world)


async def test_no_row_without_authentication_nor_for_aggregates(api: Api):
    world = await build_world(api)
    assert (await api.http.get(f"/v1/episodes/{world['kent']}")).status_code == 401
    panel = "/v1/reports/panel?from=2026-01-01&to=2026-02-01"
    assert (await api.get(panel, client="analyst")).status_code == 200
    assert (await api.http.get("/health")).status_code == 200
    operations = {row["operation"] for row in await _rows(api)}
    assert "GET /v1/episodes/{episode_id}" not in operations
    assert "GET /v1/reports/panel" not in operations


async def test_a_new_report_names_its_episode(api: Api):
    response = await api.post("/v1/missing-reports", a_report_body("KNT-AUDIT"))
    assert response.status_code == 202, response.text
    (row,) = await _rows(api, actor="client:kent", operation="POST /v1/missing-reports")
    assert row["episode_id"] == UUID(response.json()["episode_id"])
    assert row["access"] == "change"
    assert "KNT-AUDIT" not in json.dumps(row, default=str)  # ids only


async def test_the_audit_command_finds_a_child_and_an_actor(
    api: Api, database_url: str, tmp_path: Path
):
    world = await build_world(api)
    history = f"/v1/children/{world['child']}/history"
    assert (await api.get(history, client="oncall")).status_code == 200
    browser = await api.person("staff")
    assert (await browser.http.get(f"/episodes/{world['kent']}")).status_code == 200
    other = await report(api, "met", a_report_body("MET-AUDIT", police_force="MET"))
    assert (await api.get(f"/v1/episodes/{other}", client="met")).status_code == 200
    children = tmp_path / "children.csv"
    children.write_text(
        "la_child_id,given_name,family_name,date_of_birth,looked_after,uasc,"
        "placing_authority,placement_district,ola,social_worker_name,"
        "social_worker_email,social_worker_phone,team_name,team_email,team_phone\n"
        "C1,Ada,Fictitious,2010-03-14,true,false,886,,false,,,,,,\n"
    )

    imported = await _lantern(database_url, "children", "import", str(children))
    assert imported.exit_code == 0, imported.output

    by_child = await _lantern(database_url, "audit", "--child", "C1", "--json")
    assert by_child.exit_code == 0, by_child.output
    rows = [json.loads(line) for line in by_child.stdout.splitlines()]
    assert [(r["actor"], r["operation"]) for r in rows] == [
        (command_actor(), "lantern children import"),  # newest first
        ("client:oncall", "GET /v1/children/{la_child_id}/history"),
        ("client:cms", "PUT /v1/children/{la_child_id}"),
    ]

    person = f"person:{browser.person_id}"
    by_actor = await _lantern(database_url, "audit", "--actor", person)
    assert by_actor.exit_code == 0, by_actor.output
    lines = by_actor.stdout.splitlines()
    assert len(lines) == 1 and "GET /episodes/{episode_id}" in lines[0]
    assert world["kent"] in lines[0] and "127.0.0.1" in lines[0]

    by_episode = await _lantern(database_url, "audit", "--episode", other, "--json")
    actors = {json.loads(line)["actor"] for line in by_episode.stdout.splitlines()}
    assert actors == {"client:met"}


async def _lantern(database_url: str, *args: str) -> Result:
    """The command in a thread of its own: it runs its own event loop."""
    env = {"LANTERN_DATABASE_URL": database_url}
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)


async def _rows(api: Api, **where: str) -> list[dict[str, Any]]:
    query = select(audit_log).order_by(audit_log.c.audit_id)
    for name, value in where.items():
        query = query.where(audit_log.c[name] == value)
    async with api.store.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(query)]


async def test_no_data_leaves_without_its_row(
    api: Api, monkeypatch: pytest.MonkeyPatch
):
    """The row is written before the response starts: a write that fails is a 500,
    and nothing of the episode is sent."""
    world = await build_world(api)

    async def broken(*_: Any) -> None:
        raise OSError("the database is gone")

    monkeypatch.setattr(audit, "record", broken)
    response = await api.get(f"/v1/episodes/{world['kent']}")
    assert response.status_code == 500
    assert "KNT-M1" not in response.text
