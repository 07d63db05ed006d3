"""Commands that look after a running Lantern: its schema, its event catalogue,
parked messages, API clients, read models and the risk policy."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.exc import OperationalError

from events import asyncapi as contracts_doc
from events.compatibility import breaking_changes
from events.registry import Event, event_types
from events.runtime import open_store
from events.settings import CoreSettings
from events.store import migrate
from events.streams import Category, stream_name
from services.api.auth import ClientError, ClientRegistry, Role
from services.cli.settings import projectors, read_policy, read_settings
from services.triage.explain import explain
from services.triage.settings import TriageSettings

T = TypeVar("T")
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
events_app = typer.Typer(
    help="The event catalogue, for integrators.", no_args_is_help=True
)
parked_app = typer.Typer(
    help="Messages a subscriber gave up on: list them, send them round again.",
    no_args_is_help=True,
)
clients_app = typer.Typer(
    help="API clients and their bearer tokens.", no_args_is_help=True
)
projections_app = typer.Typer(
    help="Read models kept from the event log.", no_args_is_help=True
)
policy_app = typer.Typer(
    help="The risk policy: check it, explain it.", no_args_is_help=True
)


@db_app.command()
def upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    migrate.upgrade(read_settings(CoreSettings).database_url, revision)


@db_app.command()
def downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (`base` empties the database)."""
    migrate.downgrade(read_settings(CoreSettings).database_url, revision)


@events_app.command()
def schema(
    out: Annotated[
        Path | None,
        typer.Option(help="Write one TYPE.vN.json per event into this folder"),
    ] = None,
) -> None:
    """Print the JSON Schema of every event type (the payload of each Kafka message)."""
    schemas = {
        name: contracts_doc.event_schema(cls) for name, cls in event_types().items()
    }
    if out is None:
        typer.echo(json.dumps(schemas, indent=2))
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, body in schemas.items():
        (out / f"{name}.v{body['x-schema-version']}.json").write_text(
            json.dumps(body, indent=2) + "\n"
        )
    typer.echo(f"wrote {len(schemas)} schemas to {out}")


@events_app.command()
def asyncapi(
    out: Annotated[
        Path | None, typer.Option(help="Write the document here, not to stdout")
    ] = None,
    update_snapshot: Annotated[
        bool,
        typer.Option(
            help="Record the current payload schemas as published"
            " (events/contracts/schemas.snapshot.json); refused on a breaking change"
        ),
    ] = False,
) -> None:
    """The AsyncAPI 3 document of the Kafka topics (also at GET /asyncapi.json)."""
    if update_snapshot:
        _update_snapshot()
        return
    prefix = read_settings(CoreSettings).kafka_topic_prefix
    text = json.dumps(contracts_doc.published_document(prefix), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text)
    typer.echo(f"wrote {out}", err=True)


def _update_snapshot() -> None:
    published = contracts_doc.read_snapshot()
    current = contracts_doc.current_schemas(contracts_doc.contract_types())
    problems = breaking_changes(published, current)
    if problems:
        for problem in problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1)
    added = sorted(key for key in current if published.get(key) != current[key])
    contracts_doc.SNAPSHOT.write_text(
        contracts_doc.snapshot_text({**published, **current})
    )
    typer.echo(
        f"{contracts_doc.SNAPSHOT}: {len(added)} schema(s) new or changed"
        + "".join(f"\n  {key}" for key in added)
    )


@parked_app.command("list")
def parked_list(
    subscriber: Annotated[str | None, typer.Option(help="Only this subscriber")] = None,
    status: Annotated[
        str, typer.Option(help="parked, redrive, resolved or all")
    ] = "parked",
) -> None:
    """List parked messages with their errors."""
    settings = read_settings(CoreSettings)

    async def main() -> None:
        async with open_store(settings) as store:
            rows = await store.parked(
                subscriber=subscriber, status=None if status == "all" else status
            )
        for row in rows:
            typer.echo(
                f"{row.id}\t{row.subscriber}\t{row.status}\t{row.event_type}\t"
                f"{row.event_id}\t{row.partition}@{row.position}\t"
                f"attempts={row.attempts}\t{row.error}"
            )
        typer.echo(f"{len(rows)} parked message(s)")

    asyncio.run(main())


@parked_app.command("redrive")
def parked_redrive(
    ids: Annotated[list[int] | None, typer.Argument(help="Parked message ids")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every parked message")] = False,
) -> None:
    """Ask the subscribers to handle parked messages again (they pick them up live)."""
    if not ids and not all_:
        typer.echo("give parked message ids, or --all", err=True)
        raise typer.Exit(2)
    settings = read_settings(CoreSettings)

    async def main() -> int:
        async with open_store(settings) as store:
            return await store.request_redrive(None if all_ else ids)

    typer.echo(f"{asyncio.run(main())} message(s) queued for redrive")


@clients_app.command("create")
def clients_create(
    name: Annotated[str, typer.Option(help="Unique name, recorded as the actor")],
    role: Annotated[
        Role, typer.Option(help="police, staff, integrator, analyst or manager")
    ],
    force: Annotated[
        str | None, typer.Option(help="Police force code (police only)")
    ] = None,
) -> None:
    """Create a client; its token is printed once, as the last line."""
    typer.echo(_with_clients(lambda c: c.create(name, role, force)))


@clients_app.command("rotate")
def clients_rotate(name: str) -> None:
    """Give a client a new token (printed once, last line); the old one stops."""
    typer.echo(_with_clients(lambda c: c.rotate(name)))


@clients_app.command("revoke")
def clients_revoke(name: str) -> None:
    """Revoke a client's token for good."""
    _with_clients(lambda c: c.revoke(name))
    typer.echo(f"revoked {name}")


@clients_app.command("list")
def clients_list() -> None:
    """List clients (never their tokens)."""
    for row in _with_clients(lambda c: c.list()):
        state = "revoked" if row["revoked_at"] else "active"
        typer.echo(
            f"{row['name']}\t{row['role']}\t{row['police_force'] or '-'}\t{state}"
        )


def _with_clients(action: Callable[[ClientRegistry], Awaitable[T]]) -> T:
    settings = read_settings(CoreSettings)

    async def run_action() -> T:
        async with open_store(settings) as store:
            return await action(ClientRegistry(store.engine))

    try:
        return asyncio.run(run_action())
    except ClientError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """Empty the read models and replay the log into them. Safe while the services
    run: their appends wait until it is done (docs/operations.md)."""
    settings = read_settings(CoreSettings)

    def progress(done: int, total: int) -> None:
        typer.echo(f"replayed {done} of {total} events", err=True)

    async def rebuild() -> int:
        async with open_store(settings, projectors()) as store:
            return await store.rebuild_projections(progress=progress)

    try:
        replayed = asyncio.run(rebuild())
    except OperationalError as exc:
        typer.echo(f"error: nothing rebuilt, nothing changed ({exc.orig})", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"replayed {replayed} events")


@policy_app.command("check")
def policy_check(
    file: Annotated[
        Path | None, typer.Argument(help="Default: the configured one")
    ] = None,
) -> None:
    """Validate a policy file, as `lantern triage` does at start."""
    settings = read_settings(TriageSettings)
    if file is not None:
        settings = settings.model_copy(update={"triage_policy_file": file})
    typer.echo(f"policy {read_policy(settings).version} is valid")


@policy_app.command("explain")
def policy_explain(episode_id: uuid.UUID) -> None:
    """Why an episode has its risk level: every factor, its source, evidence, weight."""
    settings = read_settings(CoreSettings)

    async def read() -> list[Event]:
        async with open_store(settings) as store:
            stream = stream_name(Category.episode, episode_id)
            return [e.event for e in await store.read_stream(stream)]

    events = asyncio.run(read())
    if not events:
        typer.echo(f"no episode {episode_id}", err=True)
        raise typer.Exit(2)
    typer.echo(explain(events))
