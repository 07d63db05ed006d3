"""The real-browser harness: Debian's chromium driven by Playwright, axe-core for
accessibility, and oidc-provider-mock as the OpenID Connect provider for sign-in.

The fixtures that use these live in tests/browser/conftest.py."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, ViewportSize

from tests.e2e.processes import LANTERN
from tests.oidc_provider import OidcProvider
from tests.waiting import HTTP_TIMEOUT, eventually

CHROMIUM = os.environ.get("LANTERN_CHROMIUM", "/usr/bin/chromium")
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
BLOCKING_IMPACTS = ("serious", "critical")


def started(command: list[str], env: dict[str, str] | None = None) -> Process:
    """Start a process whose output goes to a file, never to a pipe nobody reads."""
    log = tempfile.NamedTemporaryFile(prefix="browser-", suffix=".log", delete=False)  # noqa: SIM115
    popen = subprocess.Popen(
        command, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
    )
    return Process(popen, Path(log.name))


@dataclass(frozen=True)
class Process:
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]

    async def until_answers(self, url: str, timeout: float = 90) -> None:
        """Wait until ``url`` answers 200; fail at once, with the process's output,
        if it exits first."""

        async def answers() -> bool:
            if self.popen.poll() is not None:
                raise AssertionError(
                    f"{self.popen.args!r} exited ({self.popen.returncode}) before "
                    f"{url} answered:\n{self.output()}"
                )
            try:
                async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
                    return (await client.get(url)).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(answers, timeout=timeout, what=url)

    def stop(self, timeout: float = 30) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout)


async def sign_in_at_provider(
    page: Page,
    provider: OidcProvider,
    sub: str,
    email: str,
    groups: Iterable[str] = (),
    **claims: Any,
) -> None:
    """On the provider's authorization form (where Lantern sent the browser), sign
    in as ``sub`` with these claims, and wait to leave the provider. The mock's
    form has one field, ``sub``: the claims are set beforehand over its API."""
    sub_field = page.locator('input[name="sub"]')
    await sub_field.wait_for()
    every = {"email": email, "email_verified": True, "groups": list(groups), **claims}
    await provider.set_user(sub, **every)
    await sub_field.fill(sub)
    await page.get_by_role("button", name="Authorize").click()
    await page.wait_for_url(lambda url: not url.startswith(provider.issuer))


async def lantern_command(database: Path, *args: str) -> str:
    """A ``lantern`` command on a running Lantern's SQLite database: its last line
    (a token, a sign-in link)."""
    env = {**os.environ, "LANTERN_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    process = await asyncio.create_subprocess_exec(
        LANTERN, *args, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out
    return out.decode().strip().splitlines()[-1]


async def sign_in_with_link(
    page: Page,
    base: str,
    database: Path,
    email: str,
    role: str = "staff",
    name: str = "Alex Duty",
) -> None:
    """A local account made with ``lantern users create``, signed in by its link."""
    link = await lantern_command(
        database, "users", "create", "--email", email, "--role", role, "--name", name
    )
    await page.goto(base + urlsplit(link).path)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda url: "/sign-in" not in url)


async def shot(page: Page, name: str) -> Path:
    """A full-page PNG of ``page`` at artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on ``page`` of serious or critical impact."""
    results = await Axe().run(page)
    found: list[dict[str, Any]] = results.response["violations"]
    return [v for v in found if v.get("impact") in BLOCKING_IMPACTS]


async def assert_accessible(page: Page) -> None:
    """Fail naming each serious or critical axe-core violation and its elements."""
    found = await violations(page)
    if found:
        lines = [f"{len(found)} accessibility violation(s) on {page.url}:"]
        for v in found:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
            lines.extend(f"    at {node['target']}" for node in v["nodes"])
        raise AssertionError("\n".join(lines))
