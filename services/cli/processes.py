"""The commands that run Lantern's processes; each reads its settings and hands them
to services/processes.py, which composes the process. Each imports it when it runs:
composing every service costs seconds that every other command would pay too."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Annotated, Any

import typer

from events.runtime import run_loop
from events.settings import CoreSettings
from events.store import migrate
from services.cli.settings import listen, read_policy, read_settings, required
from services.notifier.settings import NotifierSettings
from services.returns.settings import ReturnsSettings
from services.triage.settings import TriageSettings

Host = Annotated[
    str | None, typer.Option(help="Interface to listen on [default: 127.0.0.1]")
]
Port = Annotated[int | None, typer.Option(help="Port to listen on [default: 8000]")]


def run(host: Host = None, port: Port = None) -> None:
    """Run everything in one process: intake, triage, notifier, returns and the
    webhook subscriptions (and the relay when Kafka is configured). With no
    settings: SQLite file ./lantern.db, no Kafka, and the reference source servers
    (docs/sources.md) standing in for the council's."""
    from services import processes

    settings, reference = processes.embedded_sources(
        read_settings(processes.RunSettings, host=host, port=port)
    )
    policy = read_policy(settings)
    sock = listen(settings.host, settings.port)  # before migrating, before workers
    migrate.upgrade(settings.database_url)
    process = processes.serve(
        settings, policy, sock, embedded=True, reference=reference
    )
    start(process, settings, "run")


def intake(host: Host = None, port: Port = None) -> None:
    """Run the HTTP API alone: police reports, directories, alerts and their acks."""
    from services import processes

    settings = read_settings(processes.ApiSettings, host=host, port=port)
    sock = listen(settings.host, settings.port)
    start(processes.serve(settings, None, sock, embedded=False), settings, "intake")


def triage() -> None:
    """Run triage alone: risk assessments and reviews (Kafka consumer group `triage`
    when configured)."""
    from services import processes

    settings = read_settings(TriageSettings)
    start(
        processes.work(settings, ["triage"], read_policy(settings)), settings, "triage"
    )


def notifier() -> None:
    """Run the notifier alone: alerts, their delivery and escalation (Kafka consumer
    group `notifier` when configured)."""
    from services import processes

    settings = read_settings(NotifierSettings)
    start(processes.work(settings, ["notifier"], None), settings, "notifier")


def returns() -> None:
    """Run the returns service alone: return interviews opened, superseded and
    recorded overdue (Kafka consumer group `returns` when configured)."""
    from services import processes

    settings = read_settings(ReturnsSettings)
    start(processes.work(settings, ["returns"], None), settings, "returns")


def subscriptions() -> None:
    """Run the webhook subscriptions' delivery alone: integrators' events POSTed to
    their URLs (docs/integrators.md#webhook-subscriptions)."""
    from services import processes

    settings = read_settings(processes.WebhooksProcessSettings)
    start(processes.work(settings, ["webhooks"], None), settings, "subscriptions")


def relay() -> None:
    """Publish committed events to Kafka; needs LANTERN_KAFKA_BOOTSTRAP_SERVERS."""
    from services import processes

    settings = read_settings(CoreSettings)
    if not settings.kafka_bootstrap_servers:
        raise required("LANTERN_KAFKA_BOOTSTRAP_SERVERS")
    start(processes.work(settings, ["relay"], None), settings, "relay")


def start(
    process: Coroutine[Any, Any, None], settings: CoreSettings, command: str
) -> None:
    """Run a process, its traces exported when on (services/tracing.py); one that
    cannot start says why, with exit status 1."""
    from services import processes
    from services.tracing import traces

    try:
        with traces(settings, command):
            run_loop(process)
    except processes.StartupError as exc:
        typer.echo(f"cannot start: {exc}", err=True)
        raise typer.Exit(1) from None
