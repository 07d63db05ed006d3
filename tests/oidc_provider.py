"""A real OpenID Connect provider for the tests: oidc-provider-mock (PyPI), run as its
own process on 127.0.0.1, and a browser's part in its sign-in, driven with httpx.

What the tests rely on (read from oidc-provider-mock 0.3.4's source):
- ``oidc-provider-mock --host H --port P``; ``--require-registration`` makes it check
  a client's secret and redirect URIs, once registered with
  ``POST /oauth2/clients {"redirect_uris": [...]}`` (answers client_id and
  client_secret; token endpoint auth ``client_secret_basic``); ``--require-nonce``
  refuses an authorization request without a nonce.
- Its issuer is the URL it was reached at (``http://127.0.0.1:P``), its discovery
  document at ``/.well-known/openid-configuration``, its keys (RS256) at ``/jwks``.
- Its authorization form (``/oauth2/authorize``) posts one field, ``sub``, or
  ``action=deny`` (answered with ``error=access_denied``). A subject's claims are
  set beforehand with ``PUT /users/{sub}`` (a JSON object, replacing them all):
  ``email`` needs the ``email`` scope, ``name`` the ``profile`` scope; other claims
  (``groups``) are always in the ID token.
- It does not check PKCE (no code challenge extension registered): Lantern sends a
  challenge all the same, which the tests see in the authorization URL.

The browser tests (tests/browser) can use ``running_provider`` as well."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from tests.e2e.processes import free_port
from tests.waiting import HTTP_TIMEOUT, eventually

OIDC_PROVIDER_MOCK = str(Path(sys.executable).parent / "oidc-provider-mock")


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    log: Path

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    async def register_client(self, redirect_uris: Iterable[str]) -> Client:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            response = await http.post(
                f"{self.issuer}/oauth2/clients",
                json={"redirect_uris": list(redirect_uris)},
            )
        response.raise_for_status()
        body = response.json()
        return Client(body["client_id"], body["client_secret"])

    async def set_user(self, sub: str, **claims: Any) -> None:
        """The claims the provider gives ``sub`` from now on (replacing them all)."""
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            response = await http.put(
                f"{self.issuer}/users/{quote(sub, safe='')}", json=claims
            )
        response.raise_for_status()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]


@asynccontextmanager
async def running_provider(timeout: float = 30) -> AsyncIterator[OidcProvider]:
    """oidc-provider-mock on a free loopback port, requiring registered clients and
    a nonce; stopped afterwards."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="oidc-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [
            OIDC_PROVIDER_MOCK, "--host", "127.0.0.1", "--port", str(port),
            "--require-registration", "--require-nonce",
        ],
        env={**os.environ, "NO_COLOR": "1"}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    provider = OidcProvider(f"http://127.0.0.1:{port}", Path(log.name))

    async def discoverable() -> bool:
        if process.poll() is not None:
            raise AssertionError(
                f"oidc-provider-mock exited ({process.returncode}):\n"
                + provider.output()
            )
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
                answer = await http.get(provider.discovery_url)
        except httpx.TransportError:
            return False
        return answer.status_code == 200 and answer.json()["issuer"] == provider.issuer

    try:
        await eventually(discoverable, timeout=timeout, what=provider.discovery_url)
        yield provider
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class SignIn:
    """What a browser saw on its way through a sign-in."""

    authorization_url: str
    back: httpx.Response
    """Lantern's answer at /sign-in/callback."""

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.authorization_url).query)


async def sign_in_at_provider(
    browser: httpx.AsyncClient, *, sub: str | None = None, deny: bool = False,
    state: str | None = None,
) -> SignIn:  # fmt: skip
    """A browser (``browser``, Lantern's base URL, a cookie jar) begins at Lantern's
    /sign-in/oidc, is sent to the provider, answers its form as ``sub`` (or denies),
    and is sent back to Lantern's callback, with ``state`` instead of the real one
    if given. Redirects are followed by hand: each step is seen."""
    begin = await browser.get("/sign-in/oidc")
    assert begin.status_code == 303, begin.text
    authorization_url = begin.headers["location"]
    form = await browser.get(authorization_url)
    assert form.status_code == 200, form.text
    answer = await browser.post(
        authorization_url, data={"action": "deny"} if deny else {"sub": sub or ""}
    )
    assert answer.status_code in (302, 303), answer.text
    callback = answer.headers["location"]
    if state is not None:
        parts = urlsplit(callback)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        query["state"] = state
        callback = parts._replace(
            query="&".join(f"{k}={quote(v)}" for k, v in query.items())
        ).geturl()
    back = await browser.get(callback)
    return SignIn(authorization_url, back)


@pytest.fixture(scope="session")
async def oidc_provider() -> AsyncIterator[OidcProvider]:
    """One provider process for the session (each test registers its own client and
    uses its own subjects). A conftest imports this fixture to offer it."""
    async with running_provider() as provider:
        yield provider
