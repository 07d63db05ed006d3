"""The processes Lantern runs, composed from each service's bootstrap: the HTTP API
(on the embedded default with every service's workers beside it), the worker
processes, and the relay. The one module that imports more than one service."""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from typing import Self

import httpx
import structlog
import uvicorn
from fastapi import APIRouter, FastAPI
from pydantic import Field, model_validator

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
from services.api.app import create_app
from services.api.container import container_for
from services.api.links import AckLinks
from services.api.settings import HttpSettings
from services.intake.routes import router as intake_router
from services.notifier import bootstrap as notifier
from services.notifier.settings import NotifierSettings
from services.outbound import outbound_client
from services.records.children import ChildrenProjector
from services.records.episodes import EpisodesProjector
from services.reference_sources.server import (
    DEFAULT_DATA,
    create_reference_app,
    load_reference_data,
)
from services.triage import bootstrap as triage
from services.triage.policy import Policy
from services.triage.settings import TriageSettings
from services.triage.sources import SourceName
from services.triage.sources.http import SourceSettings
from services.triage.sources.settings import SourcesConfig

log = structlog.get_logger()
REFERENCE_MOUNT = "/reference-sources"


class ApiSettings(HttpSettings, NotifierSettings):
    """The API also takes acknowledgements and Notify's delivery receipts, and
    checks the recipients' webhooks."""


class RunSettings(ApiSettings, TriageSettings):
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
    ]


def routers() -> list[APIRouter]:
    return [intake_router, *notifier.routers()]


def links_for(settings: CoreSettings) -> AckLinks | None:
    """Signed ack links; in dev with no secret set, one made up for this process."""
    if not isinstance(settings, NotifierSettings):
        return None
    secret = settings.notifier_link_secret
    if secret is None and settings.environment != "dev":
        return None
    key = secret.get_secret_value().encode() if secret else secrets.token_bytes(32)
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


async def serve_app(app: FastAPI, host: str, port: int) -> None:
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False
    )
    await Server(config).serve()


async def serve(
    settings: ApiSettings,
    policy: Policy | None,
    *,
    embedded: bool,
    reference: bool = False,
) -> None:
    """The HTTP API; embedded, with triage, the notifier and the relay beside it."""
    names = ["triage", "notifier", "relay"] if embedded else []
    links = links_for(settings)
    async with (
        open_store(settings, projectors()) as store,
        workers(settings, store, names, policy, links) as running,
    ):
        callback = settings.channels.notify.callback_token
        container = container_for(
            settings,
            store,
            workers=running,
            links=links,
            notify_callback_token=callback.get_secret_value() if callback else None,
            webhook_hosts=settings.channels.webhook.allowed_hosts,
        )
        app = create_app(container, routers())
        if reference:  # read-only: faults are `lantern sources serve`'s alone
            reference_app = create_reference_app(load_reference_data(DEFAULT_DATA))
            app.mount(REFERENCE_MOUNT, reference_app)
        log.info("http_listening", host=settings.host, port=settings.port)
        settle_after_start()
        await serve_app(app, settings.host, settings.port)


async def work(settings: CoreSettings, names: list[str], policy: Policy | None) -> None:
    """A worker process: the named services' workers until SIGTERM."""
    async with (
        open_store(settings, projectors()) as store,
        workers(settings, store, names, policy, links_for(settings)) as running,
    ):
        settle_after_start()
        await run_workers(running, stop_on_signals())


@asynccontextmanager
async def workers(
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

        running: list[Worker] = []
        if "triage" in names and isinstance(settings, TriageSettings) and policy:
            running += triage.bootstrap(
                settings, store, policy, new_client=new_client
            ).workers
        if "notifier" in names and isinstance(settings, NotifierSettings):
            running += notifier.bootstrap(settings, store, new_client(), links).workers
        if "relay" in names and settings.kafka_bootstrap_servers:
            relay = KafkaRelay(
                store,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                topic_prefix=settings.kafka_topic_prefix,
                partitions=settings.kafka_partitions,
                replication_factor=settings.kafka_replication_factor,
                retention_ms=settings.kafka_retention_ms,
            )
            running.append(relay)
        yield running
