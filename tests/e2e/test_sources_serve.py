"""`lantern sources serve` as users run it: a process answering lookups, with the
faults it was started with."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx

from services.triage.sources import ChildRef, SourceName, SourceUnavailableError
from services.triage.sources.http import SourceSettings
from services.triage.sources.settings import ADAPTERS
from tests.e2e.processes import free_port, lantern, log_of, terminate, until_healthy
from tests.waiting import HTTP_TIMEOUT

ADA = ChildRef("FICT0001", "Ada", "Fictitious", date(2009, 3, 14))


async def test_sources_serve_answers_lookups_from_the_shipped_data():
    port = free_port()
    process = lantern("sources", "serve", "--port", str(port), "--down", "cme", env={})
    base = f"http://127.0.0.1:{port}"

    def source(name: SourceName, client: httpx.AsyncClient):
        settings = SourceSettings(base_url=f"{base}/{name}", retries=0)
        return ADAPTERS[name](settings, client)

    try:
        await until_healthy(base)
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
            facts = await source(SourceName.youth_justice, client).lookup(ADA)
            try:
                await source(SourceName.cme, client).lookup(ADA)
                cme = "answered"
            except SourceUnavailableError as exc:
                cme = str(exc)
    finally:
        code = await asyncio.to_thread(terminate, process)

    assert getattr(facts, "county_lines", None) is True
    assert cme == "cme: http_status"
    assert code == 0, log_of(process)


async def test_sources_serve_refuses_bad_reference_data(tmp_path):
    data = tmp_path / "reference.json"
    data.write_text('{"police": []}')
    process = lantern("sources", "serve", "--data", str(data), env={})
    code = await asyncio.to_thread(process.wait, 30)
    assert code == 2
    assert "invalid reference data" in log_of(process)
