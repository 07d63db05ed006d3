"""The processes Lantern runs, composed from each service's bootstrap: the HTTP API
(on the embedded default with every service's workers beside it), the worker
processes, and the relay. The one module that imports more than one service."""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Self

import httpx
import structlog
import uvicorn
from fastapi import APIRouter, FastAPI
from pydantic import Field, model_validator
from sqlalchemy.exc import SQLAlchemyError

from events.metrics import Probe, Refresher
from events.relay import NAME as RELAY
from events.relay import KafkaRelay
from events.runtime import (
    Worker,
    open_store,
    run_workers,
    settle_after_start,
    stop_on_signals,
)
from events.settings import CoreSettings
from events.store import Projector
from events.store.sql import SqlEventStore
from events.subscriptions.kafka import KafkaSubscription
from events.subscriptions.metrics import relay_probe, subscription_probe
from events.subscriptions.store import StoreSubscription
from services.api.app import create_app
from services.api.container import container_for
from services.api.links import AckLinks, stored_link_key
from services.api.ops import create_ops_app
from services.api.plugins import TimelineSource
from services.api.readiness import Check
from services.api.settings import HttpSettings
from services.intake.pages import router as intake_pages
from services.intake.routes import router as intake_router
from services.notifier import bootstrap as notifier
from services.notifier import metrics as notifier_metrics
from services.notifier.channels.settings import ChannelsSettings
from services.notifier.settings import NotifierSettings
from services.outbound import outbound_client
from services.records.children import ChildrenProjector
from services.records.episodes import EpisodesProjector
from services.records.frequency import FrequentlyMissing
from services.reference_sources.server import (
    DEFAULT_DATA,
    create_reference_app,
    load_reference_data,
)
from services.reports import bootstrap as reports
from services.reports.settings import ReportsSettings
from services.returns import bootstrap as returns
from services.returns import metrics as returns_metrics
from services.returns.settings import ReturnsSettings
from services.triage import bootstrap as triage
from services.triage.policy import Policy
from services.triage.policy_file import load_policy
from services.triage.settings import TriageSettings
from services.triage.sources import SourceName
from services.triage.sources.http import SourceSettings
from services.triage.sources.settings import SourcesConfig
from services.webhooks import bootstrap as webhooks
from services.webhooks.settings import WebhooksSettings

log = structlog.get_logger()
REFERENCE_MOUNT = "/reference-sources"


class ApiSettings(HttpSettings, NotifierSettings, ReportsSettings):
    """The API also takes acknowledgements and Notify's delivery receipts, checks
    the recipients' webhooks, and answers the reports."""


class WebhooksProcessSettings(WebhooksSettings, ChannelsSettings):
    """The webhook subscriptions' delivery, with the alert webhooks' allow-list
    (``LANTERN_CHANNELS__WEBHOOK__ALLOWED_HOSTS``), which it shares."""


class RunSettings(ApiSettings, TriageSettings, ReturnsSettings, WebhooksSettings):
    """`lantern run` runs every service, so it reads every service's settings."""

    demo: bool = Field(
        False,
        description="A demo: the reference sources' fictional data may be served"
        " beyond loopback",
    )

    @property
    def reference_sources(self) -> bool:
        """No source configured, in dev: the reference servers stand in for them."""
        configured = any(self.sources.of(name).configured for name in SourceName)
        return not configured and self.environment == "dev"  # fictional data: dev

    @model_validator(mode="after")
    def _reference_sources_stay_on_loopback(self) -> Self:
        """A real deployment that forgot its sources must not go live scoring
        children against made-up records, reachable by anyone."""
        if self.reference_sources and not self.demo and not _loopback(self.host):
            raise ValueError(
                f"LANTERN_HOST: {self.host} is not a loopback address, and with no"
                " LANTERN_SOURCES__*__BASE_URL set the reference sources' fictional"
                " data would be served there: configure the sources, or set"
                " LANTERN_DEMO=true for a demo"
            )
        return self


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def projectors() -> list[Projector]:
    """Every read model: whichever process appends keeps them all in its commit."""
    return [
        EpisodesProjector(),
        ChildrenProjector(),
        *triage.projectors(),
        *notifier.projectors(),
        *returns.projectors(),
        *reports.projectors(),
        *webhooks.projectors(),
    ]


def routers(settings: CoreSettings | None = None) -> list[APIRouter]:
    """Every service's routes; the reports' from ``settings`` when they are its."""
    report_settings = settings if isinstance(settings, ReportsSettings) else None
    return [
        intake_router,
        intake_pages,
        *notifier.routers(),
        *returns.routers(),
        *reports.routers(report_settings),
        *webhooks.routers(),
    ]


def frequently_missing(policy: Policy | None) -> FrequentlyMissing:
    """Triage's figure for the children's histories: the policy file in use, or the
    shipped one where this process does not read it (`lantern intake`)."""
    return (policy or load_policy()).frequently_missing


def timeline_sources() -> list[TimelineSource]:
    """The episode page's events other services keep: the alerts, the interview."""
    return [*notifier.timeline_sources(), *returns.timeline_sources()]


class StartupError(Exception):
    """The process cannot start; the message says what to do."""


async def links_for(settings: CoreSettings, store: SqlEventStore) -> AckLinks | None:
    """Signed ack links, for the processes that send or check them. With no key
    set (refused in production), the key kept in the database: links outlive a
    restart, and every process of one database checks them alike."""
    if not isinstance(settings, NotifierSettings):
        return None
    secret = settings.notifier_link_secret
    if secret is not None:
        return AckLinks(
            secret.get_secret_value().encode(), settings.notifier_public_url
        )
    try:
        key = await stored_link_key(store.engine)
    except (SQLAlchemyError, OSError) as exc:
        raise StartupError(
            "LANTERN_NOTIFIER_LINK_SECRET is not set and the link key kept in the "
            f"database could not be read ({type(exc).__name__}): is the database "
            "up, and migrated (`lantern db upgrade`)?"
        ) from exc
    return AckLinks(key, settings.notifier_public_url)


def embedded_sources(settings: RunSettings) -> tuple[RunSettings, bool]:
    """With no source configured, point triage at the reference servers mounted in
    this very process, so a newcomer sees whole assessments with nothing installed."""
    if not settings.reference_sources:
        return settings, False
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    base = f"http://{host}:{settings.port}{REFERENCE_MOUNT}"
    sources = SourcesConfig(
        **{n.value: SourceSettings(base_url=f"{base}/{n.value}") for n in SourceName}
    )
    return settings.model_copy(update={"sources": sources}), True


class Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM after a graceful stop; a clean stop should exit 0."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        yield


class CannotListenError(Exception):
    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")


def listening_socket(host: str, port: int) -> socket.socket:
    """Bound and listening before anything else starts: a port another process holds
    stops the command at once, not after its workers have started and a database was
    migrated; and no other process can take the port in between. Connections that
    arrive meanwhile wait in the backlog."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind)
    except OSError as exc:
        raise CannotListenError(host, port, exc.strerror or str(exc)) from None
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise CannotListenError(host, port, exc.strerror or str(exc)) from None
    return sock


async def serve_app(app: FastAPI, sock: socket.socket) -> None:
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False
    )
    await Server(config).serve(sockets=[sock])


async def serve(
    settings: ApiSettings,
    policy: Policy | None,
    sock: socket.socket,
    *,
    embedded: bool,
    reference: bool = False,
) -> None:
    """The HTTP API on ``sock``; embedded, with triage, the notifier and the relay
    beside it."""
    names = ["triage", "notifier", "returns", "webhooks", "relay"] if embedded else []
    async with open_store(settings, projectors()) as store:
        links = await links_for(settings, store)
        async with workers(settings, store, names, policy, links) as running:
            callback = (
                settings.channels.notify.callback_token
                if isinstance(settings, NotifierSettings)
                else None
            )
            container = container_for(
                settings,
                store,
                workers=running.workers,
                checks=running.checks,
                links=links,
                notify_callback_token=callback.get_secret_value() if callback else None,
                webhook_hosts=settings.channels.webhook.allowed_hosts,
                staff_sections=returns.staff_sections(),
                acknowledgements=notifier.acknowledgements,
                frequently_missing=frequently_missing(policy),
                timeline_sources=timeline_sources(),
                open_alerts=notifier.open_alerts(),
            )
            app = create_app(container, routers(settings))
            if reference:  # read-only: faults are `lantern sources serve`'s alone
                reference_app = create_reference_app(load_reference_data(DEFAULT_DATA))
                app.mount(REFERENCE_MOUNT, reference_app)
            log.info("http_listening", host=settings.host, port=settings.port)
            settle_after_start()
            await serve_app(app, sock)


async def work(settings: CoreSettings, names: list[str], policy: Policy | None) -> None:
    """A worker process: the named services' workers until SIGTERM, with the ops
    listener when ``LANTERN_OPS_PORT`` is set."""
    sock = ops_socket(settings)  # a port taken stops the process before it starts
    async with open_store(settings, projectors()) as store:
        links = await links_for(settings, store)
        async with workers(settings, store, names, policy, links) as running:
            settle_after_start()
            stop = stop_on_signals()
            async with ops_listener(sock, store, running):
                await run_workers(running.workers, stop)


def ops_socket(settings: CoreSettings) -> socket.socket | None:
    if settings.ops_port is None:
        return None
    try:
        return listening_socket(settings.ops_host, settings.ops_port)
    except CannotListenError as exc:
        raise StartupError(f"LANTERN_OPS_PORT: {exc}") from None


class OpsServer(uvicorn.Server):
    """Leaves the signals to the workers' stop (``stop_on_signals``): the listener
    stops once they have, so ``/ready`` answers while they finish."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def ops_listener(
    sock: socket.socket | None, store: SqlEventStore, running: Running
) -> AsyncIterator[None]:
    if sock is None:
        yield
        return
    app = create_ops_app(store, running.workers, running.checks)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False
    )
    server = OpsServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    log.info("ops_listening", host=host, port=port)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@dataclass
class Running:
    """A process's workers, and their services' checks for ``/ready``."""

    workers: list[Worker] = field(default_factory=list)
    checks: dict[str, Check] = field(default_factory=dict)
    probes: list[Probe] = field(default_factory=list)
    """What refreshes the gauges this process owns (events/metrics.py)."""


@asynccontextmanager
async def workers(
    settings: CoreSettings,
    store: SqlEventStore,
    names: list[str],
    policy: Policy | None,
    links: AckLinks | None,
) -> AsyncIterator[Running]:
    """The workers a process runs, with the HTTP clients they use."""
    async with AsyncExitStack() as clients:

        def new_client() -> httpx.AsyncClient:
            client = outbound_client()
            clients.push_async_callback(client.aclose)
            return client

        running = Running()
        if "triage" in names and isinstance(settings, TriageSettings) and policy:
            running.workers += triage.bootstrap(
                settings, store, policy, new_client=new_client
            ).workers
        if "notifier" in names and isinstance(settings, NotifierSettings):
            service = notifier.bootstrap(settings, store, new_client(), links)
            running.workers += service.workers
            running.checks |= service.checks
            running.probes.append(notifier_metrics.probe(store))
        if "returns" in names and isinstance(settings, ReturnsSettings):
            running.workers += returns.bootstrap(settings, store).workers
            running.probes.append(returns_metrics.probe(store))
        if "webhooks" in names and isinstance(settings, WebhooksSettings):
            hosts = (
                settings.channels.webhook.allowed_hosts
                if isinstance(settings, ChannelsSettings)
                else frozenset[str]()
            )
            running.workers += webhooks.bootstrap(
                settings, store, new_client(), allowed_hosts=hosts
            ).workers
        if "relay" in names and settings.kafka_bootstrap_servers:
            relay = KafkaRelay(
                store,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                topic_prefix=settings.kafka_topic_prefix,
                partitions=settings.kafka_partitions,
                replication_factor=settings.kafka_replication_factor,
                retention_ms=settings.kafka_retention_ms,
            )
            running.workers.append(relay)
            running.probes.append(relay_probe(store, RELAY))
        subscriptions = [
            w.subscriber.name
            for w in running.workers
            if isinstance(w, StoreSubscription | KafkaSubscription)
        ]
        if subscriptions:
            fed = not settings.kafka_bootstrap_servers
            running.probes.append(
                subscription_probe(store, subscriptions, store_fed=fed)
            )
        if running.probes:  # `lantern intake` keeps no gauge
            refresh = settings.metrics_refresh_s
            running.workers.append(Refresher(running.probes, refresh))
        yield running
