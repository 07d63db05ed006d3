"""What ``/ready`` reports. The web layer's own checks (database, migrations, workers)
say whether the process can do its work at all: one false is ``not_ready`` (503), and
a load balancer takes the process out. A service adds checks of how it is set up (the
notifier: a recipient no configured channel reaches): one of those false is
``degraded`` (200), since the process works and restarting it would change nothing,
but somebody must act; the body says which check and why."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import text

from events.runtime import Worker
from events.store.migrate import is_up_to_date
from events.store.sql import SqlEventStore

Check = Callable[[], Awaitable[str | None]]
"""A check of how a service is set up: None when fine, else what is wrong (ids and
setting names only, never personal data)."""
TIMEOUT_S = 2.0


class Readiness(BaseModel):
    status: Literal["ready", "degraded", "not_ready"]
    checks: dict[str, bool] = Field(
        description="database, migrations, workers; and each service's own checks"
    )
    problems: dict[str, str] = Field(
        default_factory=dict, description="Why each failing service check failed"
    )


async def readiness(
    store: SqlEventStore, workers: Collection[Worker], checks: Mapping[str, Check]
) -> Readiness:
    essential = await _essential(store, workers)
    problems = {
        name: problem
        for name, problem in zip(
            checks,
            await asyncio.gather(*(_run(check) for check in checks.values())),
            strict=True,
        )
        if problem is not None
    }
    status: Literal["ready", "degraded", "not_ready"] = (
        "not_ready"
        if not all(essential.values())
        else "degraded"
        if problems
        else "ready"
    )
    every = essential | {name: name not in problems for name in checks}
    return Readiness(status=status, checks=every, problems=problems)


async def _essential(
    store: SqlEventStore, workers: Collection[Worker]
) -> dict[str, bool]:
    database = migrations = False
    try:
        async with asyncio.timeout(TIMEOUT_S):
            async with store.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            database = True
            migrations = await is_up_to_date(store.engine)
    except Exception:  # noqa: S110 - any failure is what readiness reports
        pass
    running = all(w.running for w in workers)
    return {"database": database, "migrations": migrations, "workers": running}


async def _run(check: Check) -> str | None:
    try:
        async with asyncio.timeout(TIMEOUT_S):
            return await check()
    except Exception as exc:  # a check that cannot tell is a problem to look at
        return f"the check failed: {type(exc).__name__}"
