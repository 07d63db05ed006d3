"""The one HTTP application: every service's router mounted on the shared web layer,
with health, readiness (services/api/readiness.py) and metrics
(services/api/metrics.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Response

from events.asyncapi import published_document
from events.runtime import run_workers
from services.api.audit import AuditTrail
from services.api.container import Container
from services.api.docs import serve_docs
from services.api.errors import BodyGuard, install_error_handlers
from services.api.metrics import RequestMetrics, metrics
from services.api.openapi import document_the_web_layer
from services.api.readiness import Readiness, readiness
from services.api.tracing import NATIVE_TELEMETRY, ServerSpans, tracing_on
from services.api.web.install import install_web


def create_app(container: Container, routers: Sequence[APIRouter]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(run_workers(container.workers, container.stop))
        try:
            yield
        finally:
            container.stop.set()
            await task

    app = FastAPI(
        title="Lantern",
        summary="Missing-from-care notifications, risk triage and alerts",
        version="1",
        lifespan=lifespan,
        docs_url=None,  # served from the package's own assets: services/api/docs.py
        redoc_url=None,
        telemetry=NATIVE_TELEMETRY,
    )
    app.state.container = container
    app.add_middleware(BodyGuard)
    app.add_middleware(AuditTrail)  # outside the body guard: who tried, and got 4xx
    if tracing_on():  # the span holds everything the request did
        app.add_middleware(ServerSpans)
    app.add_middleware(RequestMetrics)  # outermost: the audit write is in the time
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)
    document_the_web_layer(app)
    serve_docs(app)
    install_web(app)

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> dict[str, Any]:
        """The Kafka topics' contract, as /openapi.json is the HTTP API's."""
        return published_document(container.topic_prefix)

    @app.get("/health", tags=["operations"], summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready",
        tags=["operations"],
        summary="Readiness: database, migrations and workers; degraded when a "
        "service is set up so that part of its work cannot be done",
        responses={503: {"model": Readiness, "description": "Not ready"}},
    )
    async def ready(response: Response) -> Readiness:
        state = await readiness(container.store, container.workers, container.checks)
        response.status_code = 503 if state.status == "not_ready" else 200
        return state

    app.add_api_route(
        "/metrics",
        metrics,
        methods=["GET"],
        tags=["operations"],
        summary="Prometheus metrics (docs/operations.md#metrics)",
        include_in_schema=False,
    )
    return app
