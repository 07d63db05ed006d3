"""Fixtures for the staff web app in a real browser: one headless chromium for the
session (Debian's, at $LANTERN_CHROMIUM, default /usr/bin/chromium; Playwright
downloads none), a fresh context and page per test, the OpenID Connect provider
(oidc-provider-mock) and Lantern itself, each a real process on 127.0.0.1.

Helpers to call from tests are in tests/browser/harness.py: ``shot``,
``assert_accessible``, ``sign_in_at_provider``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

from tests.browser.harness import (
    CHROMIUM,
    DESKTOP,
    PHONE,
    Process,
    started,
)
from tests.e2e.processes import LANTERN, free_port
from tests.oidc_provider import oidc_provider  # noqa: F401  (offered to the tests)

StartLantern = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"no chromium at {CHROMIUM}: run deploy/local/setup.sh --dev "
            "(or set LANTERN_CHROMIUM)"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True
        )
        yield browser
        await browser.close()


async def _page(browser: Browser, viewport: ViewportSize, *, phone: bool) -> Page:
    context = await browser.new_context(
        viewport=viewport, is_mobile=phone, has_touch=phone
    )
    context.set_default_timeout(10_000)
    return await context.new_page()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) with a desktop viewport, 1280x800."""
    page = await _page(browser, DESKTOP, phone=False)
    yield page
    await page.context.close()


@pytest.fixture
async def phone_page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context with a phone's viewport, 390x844, touch."""
    page = await _page(browser, PHONE, phone=True)
    yield page
    await page.context.close()


@pytest.fixture
async def lantern_web(tmp_path: Path) -> AsyncIterator[StartLantern]:
    """Start Lantern's embedded default (`lantern run`) on a free port of 127.0.0.1
        with a fresh SQLite database: ``base = await lantern_web({"LANTERN_X": "y"})``
        (the settings are optional; ``port=`` when a setting must name it). Its database
    is ``tmp_path / "lantern-N.db"``, N counting from 0. Each one started is stopped
    after the test."""
    processes: list[Process] = []

    async def start(env: Mapping[str, str] | None = None, port: int = 0) -> str:
        port = port or free_port()
        database = tmp_path / f"lantern-{len(processes)}.db"
        settings = {"LANTERN_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
        process = started(
            [LANTERN, "run", "--port", str(port)], env={**settings, **(env or {})}
        )
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        await process.until_answers(f"{base}/health")
        return base

    yield start
    for process in processes:
        await asyncio.to_thread(process.stop)
