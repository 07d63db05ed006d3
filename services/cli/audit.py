"""``lantern audit``: who saw what, newest first, for a subject access request or an
investigation (docs/data-protection.md#who-saw-what)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from events.runtime import open_store
from events.settings import CoreSettings
from services.api.audit import Query, trail
from services.cli.settings import read_settings

COLUMNS = (
    "at", "actor", "operation", "access", "la_child_id", "episode_id", "detail",
    "source", "status",
)  # fmt: skip


def audit(
    child: Annotated[
        str | None, typer.Option("--child", help="The council's id of a child")
    ] = None,
    episode: Annotated[
        uuid.UUID | None, typer.Option("--episode", help="An episode's id")
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(help="client:NAME, person:UUID, cli:USER or link:ID"),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(help="From this time (ISO 8601; UTC unless it says)"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows")] = 1000,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object a line")
    ] = False,
) -> None:
    """Who read or changed what, newest first: every filter given must match."""
    settings = read_settings(CoreSettings)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    query = Query(
        la_child_id=child, episode_id=episode, actor=actor, since=since, limit=limit
    )

    async def read() -> list[dict[str, Any]]:
        async with open_store(settings) as store:
            return await trail(store.engine, query)

    rows = asyncio.run(read())
    for row in rows:
        values = {name: row[name] for name in COLUMNS}
        if as_json:
            typer.echo(json.dumps(values, default=str))
        else:
            typer.echo("\t".join("" if v is None else str(v) for v in values.values()))
    if not as_json:
        typer.echo(f"{len(rows)} row(s)", err=True)
