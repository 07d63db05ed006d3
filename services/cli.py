"""The `lantern` command: the one place that composes services into processes."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
import structlog
import typer
import uvicorn
from pydantic import ValidationError

from events.cloudevents import schema_id
from events.contracts.recipients import RecipientRecorded
from events.envelope import NewEvent, utcnow
from events.logs import configure_logging
from events.registry import Event, event_types
from events.relay import KafkaRelay
from events.runtime import (
    Worker,
    open_store,
    run_loop,
    run_workers,
    settle_after_start,
    stop_on_signals,
    subscription_for,
)
from events.settings import CoreSettings
from events.store import Projector, migrate
from events.store.sql import SqlEventStore
from events.subscriptions import RetryPolicy
from services.intake.app import create_app
from services.intake.auth import ClientError, ClientRegistry, Role
from services.intake.authorities import la_codes
from services.intake.children_csv import parse_children
from services.intake.container import Container
from services.intake.ratelimit import RateLimiter
from services.intake.settings import IntakeSettings
from services.notifier import handlers as notifier_handlers
from services.notifier.channels.settings import build_channels
from services.notifier.directory.csv import parse_recipients
from services.notifier.directory.projector import (
    RecipientsProjector,
    SlotTakenError,
    list_recipients,
    load_directory,
    record,
    remove,
)
from services.notifier.dispatcher import Dispatcher
from services.notifier.escalation import EscalationScheduler
from services.notifier.failures import DeliveryPolicy
from services.notifier.handlers import Notifier
from services.notifier.links import AckLinks
from services.notifier.projector import AlertsProjector
from services.notifier.receiver import create_receiver_app
from services.notifier.routing import Directory
from services.notifier.settings import NotifierSettings
from services.outbound import outbound_client
from services.records.directory import ChildMatcher, DirectoryProjector, child_stream
from services.records.episodes import EpisodesProjector
from services.triage import handlers as triage_handlers
from services.triage.assessments import AssessmentsProjector
from services.triage.explain import explain
from services.triage.handlers import Triage
from services.triage.policy import Policy
from services.triage.policy_file import PolicyFileError, load_policy
from services.triage.reference_server import (
    DEFAULT_DATA,
    Fault,
    Faults,
    Malformed,
    create_reference_app,
    load_reference_data,
)
from services.triage.scheduler import ReviewScheduler
from services.triage.settings import TriageSettings
from services.triage.sources import SourceName
from services.triage.sources.http import SourceSettings
from services.triage.sources.settings import SourcesConfig, build_sources

app = typer.Typer(
    help="Lantern: notifications and risk triage for children missing from care.",
    no_args_is_help=True,
    add_completion=False,
)
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
children_app = typer.Typer(help="The children directory.", no_args_is_help=True)
recipients_app = typer.Typer(
    help="The notifier's recipients directory.", no_args_is_help=True
)
projections_app = typer.Typer(
    help="Read models kept from the event log.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(clients_app, name="clients")
app.add_typer(children_app, name="children")
app.add_typer(recipients_app, name="recipients")
app.add_typer(projections_app, name="projections")
app.add_typer(events_app, name="events")
app.add_typer(parked_app, name="parked")
policy_app = typer.Typer(
    help="The risk policy: check it, explain it.", no_args_is_help=True
)
app.add_typer(policy_app, name="policy")
sources_app = typer.Typer(
    help="The council's risk sources (Youth Justice, CME, CSE).", no_args_is_help=True
)
app.add_typer(sources_app, name="sources")
webhooks_app = typer.Typer(
    help="Webhooks: a receiver to try alerts out with.", no_args_is_help=True
)
app.add_typer(webhooks_app, name="webhooks")

log = structlog.get_logger()
S = TypeVar("S", bound=CoreSettings)
T = TypeVar("T")
Host = Annotated[
    str | None, typer.Option(help="Interface to listen on [default: 127.0.0.1]")
]
Port = Annotated[int | None, typer.Option(help="Port to listen on [default: 8000]")]


def _settings(cls: type[S], **overrides: Any) -> S:
    """Read and validate settings; a bad one stops the process naming the variable."""
    try:
        settings = cls(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        for error in exc.errors():
            if not error["loc"]:  # a rule across settings names them itself
                reason = error["msg"].removeprefix("Value error, ")
                typer.echo(f"invalid setting {reason}", err=True)
                continue
            name = "LANTERN_" + "__".join(str(p) for p in error["loc"]).upper()
            typer.echo(f"invalid setting {name}: {error['msg']}", err=True)
        raise typer.Exit(2) from None
    configure_logging(
        level=settings.log_level,
        fmt=settings.log_format,
        environment=settings.environment,
    )
    return settings


class RunSettings(IntakeSettings, TriageSettings, NotifierSettings):
    """`lantern run` runs every service, so it reads every service's settings."""


class ApiSettings(IntakeSettings, NotifierSettings):
    """The API also takes acknowledgements and Notify's delivery receipts."""


@app.command()
def run(host: Host = None, port: Port = None) -> None:
    """Run everything in one process: intake, triage and notifier (and the relay when
    Kafka is configured). With no settings: SQLite file ./lantern.db, no Kafka, and
    the reference source servers (docs/sources.md) standing in for the council's."""
    settings, reference = _embedded_sources(
        _settings(RunSettings, host=host, port=port)
    )
    policy = _policy(settings)
    migrate.upgrade(settings.database_url)
    run_loop(_serve(settings, policy, embedded=True, reference=reference))


@app.command()
def intake(host: Host = None, port: Port = None) -> None:
    """Run the HTTP API alone: police reports, directories, alerts and their acks."""
    settings = _settings(ApiSettings, host=host, port=port)
    run_loop(_serve(settings, None, embedded=False))


@app.command("triage")
def triage_command() -> None:
    """Run triage alone: risk assessments and reviews (Kafka consumer group `triage`
    when configured)."""
    settings = _settings(TriageSettings)
    run_loop(_work(settings, ["triage"], _policy(settings)))


@app.command("notifier")
def notifier_command() -> None:
    """Run the notifier alone: alerts, their delivery and escalation (Kafka consumer
    group `notifier` when configured)."""
    run_loop(_work(_settings(NotifierSettings), ["notifier"], None))


@app.command()
def relay() -> None:
    """Publish committed events to Kafka; needs LANTERN_KAFKA_BOOTSTRAP_SERVERS."""
    settings = _settings(CoreSettings)
    if not settings.kafka_bootstrap_servers:
        typer.echo(
            "invalid setting LANTERN_KAFKA_BOOTSTRAP_SERVERS: required", err=True
        )
        raise typer.Exit(2)
    run_loop(_work(settings, ["relay"], None))


def _policy(settings: TriageSettings) -> Policy:
    """The policy file, or the process stops here saying what is wrong with it."""
    try:
        return load_policy(settings.triage_policy_file)
    except PolicyFileError as exc:
        typer.echo(f"invalid setting LANTERN_TRIAGE_POLICY_FILE: {exc}", err=True)
        raise typer.Exit(2) from None


REFERENCE_MOUNT = "/reference-sources"


def _embedded_sources(settings: RunSettings) -> tuple[RunSettings, bool]:
    """With no source configured, point triage at the reference servers mounted in
    this very process, so a newcomer sees whole assessments with nothing installed."""
    configured = any(settings.sources.of(name).configured for name in SourceName)
    if configured or settings.environment != "dev":  # fictional data: dev only
        return settings, False
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    base = f"http://{host}:{settings.port}{REFERENCE_MOUNT}"
    sources = SourcesConfig(
        **{n.value: SourceSettings(base_url=f"{base}/{n.value}") for n in SourceName}
    )
    return settings.model_copy(update={"sources": sources}), True


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after a graceful stop; a clean stop should exit 0."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        yield


def _projectors() -> list[Projector]:
    return [
        EpisodesProjector(),
        DirectoryProjector(),
        AssessmentsProjector(),
        AlertsProjector(),
        RecipientsProjector(),
    ]


def _links(settings: CoreSettings) -> AckLinks | None:
    """Signed ack links; in dev with no secret set, one made up for this process."""
    if not isinstance(settings, NotifierSettings):
        return None
    secret = settings.notifier_link_secret
    if secret is None and settings.environment != "dev":
        return None
    key = secret.get_secret_value().encode() if secret else secrets.token_bytes(32)
    return AckLinks(key, settings.notifier_public_url)


async def _serve(
    settings: IntakeSettings,
    policy: Policy | None,
    *,
    embedded: bool,
    reference: bool = False,
) -> None:
    names = ["triage", "notifier", "relay"] if embedded else []
    links = _links(settings)
    async with (
        open_store(settings, _projectors()) as store,
        _workers(settings, store, names, policy, links) as workers,
    ):
        callback = (
            settings.channels.notify.callback_token
            if isinstance(settings, NotifierSettings)
            else None
        )
        container = Container(
            store=store,
            clients=ClientRegistry(store.engine),
            limiter=RateLimiter(
                settings.rate_limit_per_minute, settings.rate_limit_burst
            ),
            children=ChildMatcher(store),
            workers=workers,
            links=links,
            notify_callback_token=callback.get_secret_value() if callback else None,
        )
        app = create_app(container)
        if reference:
            reference_app = create_reference_app(
                load_reference_data(DEFAULT_DATA), Faults.at_start(Fault())
            )
            app.mount(REFERENCE_MOUNT, reference_app)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
        )
        log.info("http_listening", host=settings.host, port=settings.port)
        settle_after_start()
        await _Server(config).serve()


async def _work(
    settings: CoreSettings, names: list[str], policy: Policy | None
) -> None:
    async with (
        open_store(settings, _projectors()) as store,
        _workers(settings, store, names, policy, _links(settings)) as workers,
    ):
        settle_after_start()
        await run_workers(workers, stop_on_signals())


@asynccontextmanager
async def _workers(
    settings: CoreSettings,
    store: SqlEventStore,
    names: list[str],
    policy: Policy | None,
    links: AckLinks | None,
) -> AsyncIterator[list[Worker]]:
    """The workers a process runs, with the HTTP clients they use."""
    async with AsyncExitStack() as clients:

        def new_client() -> httpx.AsyncClient:
            client = outbound_client()
            clients.push_async_callback(client.aclose)
            return client

        workers: list[Worker] = []
        if "triage" in names and isinstance(settings, TriageSettings) and policy:
            triage = Triage(
                store,
                build_sources(settings, new_client),
                policy,
                budget_s=settings.triage_budget_s,
                recheck_s=settings.triage_recheck_s,
            )
            workers += [
                subscription_for(settings, store, triage_handlers.subscriber(triage)),
                ReviewScheduler(triage, poll_s=settings.triage_review_poll_s),
            ]
        if "notifier" in names and isinstance(settings, NotifierSettings):
            workers += _notifier_workers(settings, store, new_client(), links)
        if "relay" in names and settings.kafka_bootstrap_servers:
            workers.append(
                KafkaRelay(
                    store,
                    bootstrap_servers=settings.kafka_bootstrap_servers,
                    topic_prefix=settings.kafka_topic_prefix,
                    partitions=settings.kafka_partitions,
                    replication_factor=settings.kafka_replication_factor,
                    retention_ms=settings.kafka_retention_ms,
                )
            )
        yield workers


def _notifier_workers(
    settings: NotifierSettings,
    store: SqlEventStore,
    client: httpx.AsyncClient,
    links: AckLinks | None,
) -> list[Worker]:
    channels = build_channels(settings, client)

    async def directory() -> Directory:
        return await load_directory(store)

    notifier = Notifier(
        store,
        directory,
        configured_channels=frozenset(channels),
        escalate_after=timedelta(minutes=settings.notifier_escalate_after_minutes),
    )
    retry = RetryPolicy(
        first_delay=settings.notifier_retry_first_s,
        max_delay=settings.notifier_retry_max_s,
    )
    policy = DeliveryPolicy(settings.notifier_attempts_per_channel, retry)
    return [
        subscription_for(settings, store, notifier_handlers.subscriber(notifier)),
        Dispatcher(
            notifier, channels, links, policy=policy, poll_s=settings.notifier_poll_s
        ),
        EscalationScheduler(notifier, poll_s=settings.notifier_escalation_poll_s),
    ]


@db_app.command()
def upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    migrate.upgrade(_settings(CoreSettings).database_url, revision)


@db_app.command()
def downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (`base` empties the database)."""
    migrate.downgrade(_settings(CoreSettings).database_url, revision)


@events_app.command()
def schema(
    out: Annotated[
        Path | None,
        typer.Option(help="Write one TYPE.vN.json per event into this folder"),
    ] = None,
) -> None:
    """Print the JSON Schema of every event type (the payload of each Kafka message)."""
    schemas = {
        name: {
            **cls.model_json_schema(),
            "$id": schema_id(name, cls.schema_version),
            "x-schema-version": cls.schema_version,
        }
        for name, cls in event_types().items()
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


@parked_app.command("list")
def parked_list(
    subscriber: Annotated[str | None, typer.Option(help="Only this subscriber")] = None,
    status: Annotated[
        str, typer.Option(help="parked, redrive, resolved or all")
    ] = "parked",
) -> None:
    """List parked messages with their errors."""
    settings = _settings(CoreSettings)

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
    settings = _settings(CoreSettings)

    async def main() -> int:
        async with open_store(settings) as store:
            return await store.request_redrive(None if all_ else ids)

    typer.echo(f"{asyncio.run(main())} message(s) queued for redrive")


@clients_app.command("create")
def clients_create(
    name: Annotated[str, typer.Option(help="Unique name, recorded as the actor")],
    role: Annotated[Role, typer.Option(help="police or integrator")],
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
    settings = _settings(CoreSettings)

    async def run_action() -> T:
        async with open_store(settings) as store:
            return await action(ClientRegistry(store.engine))

    try:
        return asyncio.run(run_action())
    except ClientError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@children_app.command("import")
def children_import(
    file: Annotated[typer.FileText, typer.Argument(help="CSV; see docs/operations.md")],
) -> None:
    """Record every child in a CSV file; nothing is recorded if any row is bad."""
    settings = _settings(CoreSettings)
    records, problems = parse_children(file, la_codes(), utcnow().date())
    if problems:
        typer.echo("\n".join(problems), err=True)
        raise typer.Exit(2)

    async def record_all() -> None:
        async with open_store(settings, _projectors()) as store:
            for record in records:
                await store.append(
                    child_stream(record.la_child_id),
                    [NewEvent(event=record, actor="cli:children-import")],
                    expected_version=None,
                )

    asyncio.run(record_all())
    typer.echo(f"recorded {len(records)} child(ren)")


@recipients_app.command("import")
def recipients_import(
    file: Annotated[typer.FileText, typer.Argument(help="CSV; see docs/recipients.md")],
) -> None:
    """Record every recipient in a CSV file; nothing is recorded if any row is bad."""
    settings = _settings(CoreSettings)

    async def record_all() -> tuple[int, int, list[str]]:
        async with open_store(settings, _projectors()) as store:
            existing = await list_recipients(store)
            entries, problems = parse_recipients(file, la_codes(), existing)
            changed = [e for e in entries if e not in existing]
            if changed and not problems:
                await record(store, changed, actor="cli:recipients-import")
            return len(changed), len(entries) - len(changed), problems

    try:
        changed, unchanged, problems = asyncio.run(record_all())
    except SlotTakenError:
        problems = ["the directory changed during the import: nothing was recorded"]
    if problems:
        typer.echo("\n".join(problems), err=True)
        raise typer.Exit(2)
    typer.echo(f"recorded {changed} recipient(s), {unchanged} unchanged")


@recipients_app.command("list")
def recipients_list(
    show_addresses: Annotated[
        bool, typer.Option(help="Also print the e-mail, phone and webhook URL")
    ] = False,
) -> None:
    """List the directory: id, kind, key, name and channels (not the addresses)."""
    settings = _settings(CoreSettings)

    async def read() -> list[RecipientRecorded]:
        async with open_store(settings) as store:
            return await list_recipients(store)

    columns = ["id", "kind", "key", "name", "channels"]
    if show_addresses:
        columns += ["email", "phone", "webhook_url"]
    typer.echo("\t".join(columns))
    for e in asyncio.run(read()):
        addresses = {"email": e.email, "sms": e.phone, "webhook": e.webhook_url}
        channels = ",".join(c for c, address in addresses.items() if address)
        row = [e.recipient_id, e.kind, e.key or "-", e.name, channels]
        if show_addresses:
            row += [a or "-" for a in addresses.values()]
        typer.echo("\t".join(row))


@recipients_app.command("remove")
def recipients_remove(recipient_id: str) -> None:
    """Remove a recipient: routing leaves their place empty until it is filled."""
    settings = _settings(CoreSettings)

    async def remove_one() -> bool:
        async with open_store(settings, _projectors()) as store:
            return await remove(store, recipient_id, actor="cli:recipients-remove")

    if not asyncio.run(remove_one()):
        typer.echo(f"no recipient {recipient_id!r}", err=True)
        raise typer.Exit(2)
    typer.echo(f"removed {recipient_id}")


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """Empty the read models and replay the log into them (stop services first)."""
    settings = _settings(CoreSettings)

    async def rebuild() -> int:
        async with open_store(settings, _projectors()) as store:
            return await store.rebuild_projections()

    typer.echo(f"replayed {asyncio.run(rebuild())} events")


@sources_app.command("serve")
def sources_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8100,
    data: Annotated[
        Path, typer.Option(help="JSON file, or a folder of <source>.csv files")
    ] = DEFAULT_DATA,
    latency_ms: Annotated[int, typer.Option(min=0, help="Added to lookups")] = 0,
    error_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Share of lookups answered 500")
    ] = 0.0,
    down: Annotated[
        list[SourceName] | None, typer.Option(help="Answer 503 (repeatable)")
    ] = None,
    malformed: Annotated[
        Malformed, typer.Option(help="Answer garbage with status 200")
    ] = Malformed.none,
    token: Annotated[
        str | None,
        typer.Option(envvar="LANTERN_SOURCES_SERVE_TOKEN", help="Bearer required"),
    ] = None,
) -> None:
    """Serve the three source APIs over reference data, with injected faults (see
    docs/sources.md). Base URLs: http://HOST:PORT/youth_justice, /cme and /cse."""
    _settings(CoreSettings)
    fault = Fault(latency_ms=latency_ms, error_rate=error_rate, malformed=malformed)
    try:
        reference = load_reference_data(data)
    except (ValueError, OSError) as exc:
        typer.echo(f"invalid reference data: {exc}", err=True)
        raise typer.Exit(2) from None
    config = uvicorn.Config(
        create_reference_app(
            reference, Faults.at_start(fault, down=down or ()), token=token
        ),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
    )
    run_loop(_Server(config).serve())


@webhooks_app.command("receive")
def webhooks_receive(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 9000,
) -> None:
    """Receive Lantern's webhooks on any path, check their signatures with
    LANTERN_CHANNELS__WEBHOOK__SECRET, and print each message (docs/notifier.md)."""
    secret = _settings(NotifierSettings).channels.webhook.secret
    if secret is None:
        typer.echo(
            "invalid setting LANTERN_CHANNELS__WEBHOOK__SECRET: required", err=True
        )
        raise typer.Exit(2)
    app = create_receiver_app(secret.get_secret_value(), show=typer.echo)
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False
    )
    run_loop(_Server(config).serve())


@policy_app.command("check")
def policy_check(
    file: Annotated[
        Path | None, typer.Argument(help="Default: the configured one")
    ] = None,
) -> None:
    """Validate a policy file, as `lantern triage` does at start."""
    settings = _settings(TriageSettings)
    if file is not None:
        settings = settings.model_copy(update={"triage_policy_file": file})
    typer.echo(f"policy {_policy(settings).version} is valid")


@policy_app.command("explain")
def policy_explain(episode_id: uuid.UUID) -> None:
    """Why an episode has its risk level: every factor, its source, evidence, weight."""
    settings = _settings(CoreSettings)

    async def read() -> list[Event]:
        async with open_store(settings) as store:
            return [e.event for e in await store.read_stream(f"episode-{episode_id}")]

    events = asyncio.run(read())
    if not events:
        typer.echo(f"no episode {episode_id}", err=True)
        raise typer.Exit(2)
    typer.echo(explain(events))


def main() -> None:
    app()
