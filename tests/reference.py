"""The reference source servers (Youth Justice, CME, CSE) for real on loopback, with
their fault switches, for the tests that need a council's systems."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from services.reference_sources.server import (
    DEFAULT_DATA,
    Faults,
    create_reference_app,
    load_reference_data,
)
from services.triage.sources import SourceName
from tests.e2e.processes import free_port
from tests.waiting import HTTP_TIMEOUT, eventually


@dataclass
class Reference:
    root: str
    http: httpx.AsyncClient

    def base_url(self, source: SourceName) -> str:
        return f"{self.root}/{source}"

    async def fault(self, source: SourceName, **fault: Any) -> None:
        response = await self.http.put(f"/_faults/{source}", json=fault)
        assert response.status_code == 200, response.text

    async def requests(self, source: SourceName) -> int:
        return int((await self.http.get("/_faults")).json()[source]["requests"])


@asynccontextmanager
async def serve_reference(
    data: Path = DEFAULT_DATA, token: str | None = None
) -> AsyncIterator[Reference]:
    app = create_reference_app(load_reference_data(data), Faults(), token=token)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, what="reference server listening")
    root = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, base_url=root) as http:
            yield Reference(root, http)
    finally:
        server.should_exit = True
        await task
