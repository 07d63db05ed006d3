"""Wait on a condition with a deadline: tests never sleep to synchronise."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

HTTP_TIMEOUT = httpx.Timeout(30.0)
"""For the tests' own HTTP clients: a deadline, not a figure. httpx's 5 s default
failed requests on a loaded machine (the suite runs on both cores beside the
servers it starts); how fast Lantern answers is measured in bench/, not here."""


async def eventually(
    check: Callable[[], Any | Awaitable[Any]], *, timeout: float = 10, what: str = ""
) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {what or check}")
        await asyncio.sleep(0.05)
