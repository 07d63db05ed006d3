"""The one HTTP application: every service's router mounted on the shared web layer,
with health and readiness."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Response
from sqlalchemy import text

from events.runtime import run_workers
from events.store.migrate import is_up_to_date
from services.api.container import Container
from services.api.deps import CORRELATION_PARAMETER
from services.api.errors import BodyGuard, install_error_handlers


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
    )
    app.state.container = container
    app.add_middleware(BodyGuard)
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)
    _document_correlation_header(app)

    @app.get("/health", tags=["operations"], summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready",
        tags=["operations"],
        summary="Readiness: database reachable, migrations applied, workers running",
        responses={503: {"description": "Not ready; the body says which check failed"}},
    )
    async def ready(response: Response) -> dict[str, object]:
        checks = await _checks(container)
        ok = all(checks.values())
        response.status_code = 200 if ok else 503
        return {"status": "ready" if ok else "not_ready", "checks": checks}

    return app


def _document_correlation_header(app: FastAPI) -> None:
    """The optional ``X-Correlation-ID`` on every operation that authenticates: the
    client dependency reads it from the request itself, out of FastAPI's sight."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            for path in build()["paths"].values():
                for operation in path.values():
                    if "security" in operation:
                        parameters = operation.setdefault("parameters", [])
                        parameters.append(CORRELATION_PARAMETER)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


async def _checks(container: Container) -> dict[str, bool]:
    database = migrations = False
    try:
        async with asyncio.timeout(2):
            async with container.store.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            database = True
            migrations = await is_up_to_date(container.store.engine)
    except Exception:  # noqa: S110 - any failure is what readiness reports
        pass
    workers = all(w.running for w in container.workers)
    return {"database": database, "migrations": migrations, "workers": workers}
