"""A real HTTP API server on loopback, with every read model, a police client per
force, an integrator, a member of staff on call and an analyst; and people who sign
in to the web pages (``Api.person``)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from services.api.app import create_app
from services.api.auth import ClientRegistry, Role
from services.api.container import Container
from services.api.links import AckLinks
from services.api.ratelimit import RateLimiter
from services.api.readiness import Check
from services.api.tables import web_sessions
from services.api.web.parts import web_for
from services.api.web.people import parse_roles
from services.api.web.sessions import COOKIE
from services.api.web.settings import WebSettings
from services.notifier import bootstrap as notifier
from services.processes import projectors, routers, timeline_sources
from services.records.children import ChildMatcher
from services.returns import bootstrap as returns
from services.triage.policy_file import load_policy
from tests.e2e.processes import free_port
from tests.waiting import HTTP_TIMEOUT, eventually

AS_JSON = {"Content-Type": "application/json"}


@dataclass
class Browser:
    """A signed-in person's cookie jar, and the CSRF token their forms carry."""

    http: httpx.AsyncClient
    person_id: uuid.UUID
    csrf: str

    async def submit(self, path: str, form: dict[str, Any]) -> httpx.Response:
        return await self.http.post(path, data={"csrf_token": self.csrf, **form})


@dataclass
class Api:
    http: httpx.AsyncClient
    store: SqlEventStore
    tokens: dict[str, str]
    clients: ClientRegistry
    app: FastAPI
    _browsers: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def person(self, roles: str = "staff", name: str = "Alex Duty") -> Browser:
        """A person with these roles (comma-separated), signed in."""
        web = self.app.state.container.web
        now = datetime.now(UTC)
        email = f"{uuid.uuid4().hex[:12]}@council.test"
        person_id = await web.people.create_local(email, name, parse_roles(roles), now)
        token = await web.sessions.start(person_id, now)
        async with self.store.engine.connect() as conn:
            csrf = await conn.scalar(
                web_sessions.select()
                .with_only_columns(web_sessions.c.csrf_token)
                .where(web_sessions.c.person_id == person_id)
            )
        http = await self._browsers.enter_async_context(
            httpx.AsyncClient(
                timeout=HTTP_TIMEOUT,
                base_url=self.http.base_url,
                cookies={COOKIE: token},
            )
        )
        return Browser(http, person_id, str(csrf))

    def auth(self, client: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[client]}"}

    async def post(
        self, path: str, body: Any, client: str = "kent", **kw: Any
    ) -> httpx.Response:
        """``body`` as JSON with every non-ASCII character escaped, so that a lone
        surrogate, which JSON can carry and UTF-8 cannot, reaches the server."""
        headers = {**self.auth(client), **AS_JSON, **kw.pop("headers", {})}
        content = json.dumps(body).encode()
        return await self.http.post(path, content=content, headers=headers, **kw)

    async def get(self, path: str, client: str = "kent", **kw: Any) -> httpx.Response:
        return await self.http.get(path, headers=self.auth(client), **kw)


WEBHOOK_HOSTS = frozenset({"127.0.0.1"})
"""The allow-list of the tests, as of the demo: webhooks to loopback over http."""
LINK_SECRET = b"link-secret-for-tests-only-0123456789"
NOTIFY_CALLBACK_TOKEN = "notify-callback-token-for-tests"


@asynccontextmanager
async def serve_api(
    database_url: str,
    *,
    per_minute: int = 100_000,
    checks: Mapping[str, Check] | None = None,
    failures: RateLimiter | None = None,
    web: WebSettings | None = None,
    port: int | None = None,
) -> AsyncIterator[Api]:
    """``failures``: the budget of failed authentications per address (by default
    more than any test spends: they all come from 127.0.0.1). ``web``: the web
    pages' settings (an OpenID Connect provider, the timeouts, the public URL);
    ``port``: where to listen, when the test must know it first (a redirect URI)."""
    store = SqlEventStore(create_engine(database_url), projectors=projectors())
    clients = ClientRegistry(store.engine)
    tokens = {
        "kent": await clients.create("kent", Role.police, "KENT"),
        "met": await clients.create("met", Role.police, "MET"),
        "cms": await clients.create("cms", Role.integrator, None),
        "oncall": await clients.create("oncall", Role.staff, None),
        "analyst": await clients.create("analyst", Role.analyst, None),
    }
    limiter = RateLimiter(per_minute, burst=min(per_minute, 1000))
    container = Container(
        store=store,
        clients=clients,
        limiter=limiter,
        auth_failures=failures or RateLimiter(100_000, burst=100_000),
        children=ChildMatcher(store),
        checks=checks or {},
        links=AckLinks(LINK_SECRET, "http://lantern.test"),
        notify_callback_token=NOTIFY_CALLBACK_TOKEN,
        webhook_hosts=WEBHOOK_HOSTS,
        staff_sections=returns.staff_sections(),
        acknowledgements=notifier.acknowledgements,
        frequently_missing=load_policy().frequently_missing,
        web=web_for(store.engine, web or WebSettings()),
        timeline_sources=timeline_sources(),
        open_alerts=notifier.open_alerts(),
    )
    app = create_app(container, routers())
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, what="intake listening")
    try:
        async with httpx.AsyncClient(
            timeout=HTTP_TIMEOUT, base_url=f"http://127.0.0.1:{port}"
        ) as http:
            api = Api(http, store, tokens, clients, app)
            async with api._browsers:
                yield api
    finally:
        server.should_exit = True
        await task
        await store.close()


STARTED = datetime.now(UTC).replace(microsecond=0)


def a_report_body(reference: str = "KNT-1", **overrides: Any) -> dict[str, Any]:
    now = STARTED
    body: dict[str, Any] = {
        "police_force": "KENT",
        "police_reference": reference,
        "reported_at": (now - timedelta(hours=1)).isoformat(),
        "missing_since": (now - timedelta(hours=3)).isoformat(),
        "episode_type": "missing",
        "police_risk_grade": "medium",
        "child": {
            "given_name": "Sam",
            "family_name": "Taylor",
            "date_of_birth": "2011-05-14",
            "gender": "female",
        },
        "placement": {"placing_authority": "886", "placement_type": "childrens_home"},
        "circumstances": "Did not return from school",
    }
    body.update(overrides)
    return body
