"""The real-browser harness: Debian's chromium driven by Playwright, axe-core for
accessibility, and oidc-provider-mock as the OpenID Connect provider for sign-in.

The fixtures that use these live in tests/browser/conftest.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, ViewportSize

from tests.waiting import eventually

CHROMIUM = os.environ.get("LANTERN_CHROMIUM", "/usr/bin/chromium")
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
BLOCKING_IMPACTS = ("serious", "critical")
OIDC_PROVIDER_MOCK = str(Path(sys.executable).parent / "oidc-provider-mock")


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
                async with httpx.AsyncClient() as client:
                    return (await client.get(url)).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(answers, timeout=timeout, what=url)

    def stop(self, timeout: float = 30) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout)


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class OidcProvider:
    """oidc-provider-mock, running. Any client id and secret are accepted, with any
    redirect URI, unless the client was registered (``register_client``): then its
    secret and redirect URIs are checked."""

    issuer: str

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    async def register_client(self, redirect_uris: Iterable[str]) -> Client:
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{self.issuer}/oauth2/clients",
                json={"redirect_uris": list(redirect_uris)},
            )
        response.raise_for_status()
        body = response.json()
        return Client(body["client_id"], body["client_secret"])

    async def set_user(self, sub: str, **claims: Any) -> None:
        """Set the claims the provider gives ``sub`` (it replaces them all)."""
        await set_user(self.issuer, sub, claims)


async def set_user(issuer: str, sub: str, claims: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.put(
            f"{issuer}/users/{quote(sub, safe='')}", json=claims
        )
    response.raise_for_status()


async def sign_in_at_provider(
    page: Page, sub: str, email: str, groups: Iterable[str] = (), **claims: Any
) -> None:
    """On the provider's authorization form (where the app under test sent the
    browser), sign in as ``sub`` with these claims, and wait to leave the provider.

    The mock's form has one text field, ``sub``; the claims are set beforehand over
    its API (``PUT /users/<sub>``). ``groups`` and any other non-standard claim go in
    the ID token and userinfo whatever the scopes; ``email`` needs the ``email``
    scope."""
    sub_field = page.locator('input[name="sub"]')
    await sub_field.wait_for()
    parts = urlsplit(page.url)
    issuer = f"{parts.scheme}://{parts.netloc}"
    every = {"email": email, "email_verified": True, "groups": list(groups), **claims}
    await set_user(issuer, sub, every)
    await sub_field.fill(sub)
    await page.get_by_role("button", name="Authorize").click()
    await page.wait_for_url(lambda url: not url.startswith(issuer))


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
