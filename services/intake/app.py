"""The intake HTTP application: police-facing API, health and readiness."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Response
from sqlalchemy import text

from events.runtime import Worker, run_workers
from events.store.migrate import is_up_to_date
from events.store.sql import SqlEventStore


@dataclass
class Container:
    """What the app needs; ``workers`` are run beside it (the embedded default)."""

    store: SqlEventStore
    workers: Sequence[Worker] = ()
    stop: asyncio.Event = field(default_factory=asyncio.Event)


def create_app(container: Container) -> FastAPI:
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
