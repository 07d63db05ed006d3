"""The ops listener of a worker process (``LANTERN_OPS_PORT``): ``/health``,
``/ready`` and ``/metrics``, the HTTP processes' own, for a process that serves
nothing else; Kubernetes probes it and Prometheus scrapes it."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from fastapi import FastAPI, Response

from events.runtime import Worker
from events.store.sql import SqlEventStore
from services.api.metrics import metrics
from services.api.readiness import Check, Readiness, readiness


def create_ops_app(
    store: SqlEventStore, workers: Collection[Worker], checks: Mapping[str, Check]
) -> FastAPI:
    app = FastAPI(title="Lantern ops", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready(response: Response) -> Readiness:
        state = await readiness(store, workers, checks)
        response.status_code = 503 if state.status == "not_ready" else 200
        return state

    app.add_api_route("/metrics", metrics, methods=["GET"])
    return app
