"""Who may open each of the staff's pages: a table of every page route, checked
against the app's routes (a new page without a row fails), and each row tried as
someone signed out, staff, an analyst and a manager.

Signed out means sent to sign in; a role without the page gets a 403 page. Forms
are posted with the session's CSRF token, so a 403 there is the role's."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from tests.api import Api, serve_api

pytestmark = pytest.mark.postgres_only

PUBLIC = "public"
SIGN_IN = "sign in"
OPEN = "open"
REFUSED = "403"
UNAUTHORISED = "401"
SIGNED_OUT_EVENT = "signed-out event"
VIEWERS = ("signed out", "staff", "analyst", "manager")
NOT_PAGES = (
    "/v1/",
    "/docs",
    "/openapi.json",
    "/asyncapi.json",
    "/redoc",
    "/static",
    "/health",
    "/ready",
    "/metrics",
)
SOME_ID = str(uuid.uuid4())


def is_page(path: str | None) -> bool:
    return path is not None and not path.startswith(NOT_PAGES)


@dataclass(frozen=True)
class Page:
    operation: str
    expect: tuple[str, str, str, str]

    @property
    def method(self) -> str:
        return self.operation.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return self.operation.split(" ", 1)[1].format(
            episode_id=SOME_ID, client_id=SOME_ID, alert_id=SOME_ID, token="x" * 43
        )


STAFF_ONLY = (SIGN_IN, OPEN, REFUSED, OPEN)
READERS = (SIGN_IN, OPEN, OPEN, OPEN)
MANAGERS = (SIGN_IN, REFUSED, REFUSED, OPEN)
ANYONE = (PUBLIC,) * 4

PAGES = [
    Page("GET /", ANYONE),
    Page("GET /sign-in", ANYONE),
    Page("GET /sign-in/link/{token}", ANYONE),
    Page("POST /sign-in/link/{token}", ANYONE),
    Page("GET /sign-in/oidc", ANYONE),
    Page("GET /sign-in/callback", ANYONE),
    Page("POST /sign-out", (SIGN_IN, OPEN, OPEN, OPEN)),
    Page("GET /now", STAFF_ONLY),
    Page("GET /now/alerts-fragment", (UNAUTHORISED, OPEN, REFUSED, OPEN)),
    Page("GET /now/stream", (SIGNED_OUT_EVENT, OPEN, REFUSED, OPEN)),
    Page("POST /now/alerts/{alert_id}/acknowledge", STAFF_ONLY),
    Page("GET /manage/recipients", MANAGERS),
    Page("GET /episodes/{episode_id}", STAFF_ONLY),
    Page("GET /frequently-missing", STAFF_ONLY),
    Page("GET /return-interviews", STAFF_ONLY),
    Page("GET /return-interviews/{episode_id}", STAFF_ONLY),
    Page("POST /return-interviews/{episode_id}", STAFF_ONLY),
    Page("GET /reports", READERS),
    Page("GET /reports/panel.pdf", READERS),
    Page("GET /reports/panel.json", READERS),
    Page("GET /manage/clients", MANAGERS),
    Page("GET /manage/clients/new", MANAGERS),
    Page("POST /manage/clients", MANAGERS),
    Page("GET /manage/clients/{client_id}/revoke", MANAGERS),
    Page("POST /manage/clients/{client_id}/revoke", MANAGERS),
]


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with serve_api(database_url) as api:
        yield api


async def test_every_page_is_in_the_table(api: Api):
    pages = {
        f"{method} {route.path}"
        for route in iter_route_contexts(api.app.routes)
        if is_page(route.path)
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }
    assert pages == {page.operation for page in PAGES}


async def test_who_may_open_each_page(api: Api):
    """One server for every row (starting one per row was most of this module's
    time); each viewer a fresh person, since a row may sign them out."""
    wrong = []
    for page in PAGES:
        if page.expect == ANYONE:
            continue
        for viewer, expected in zip(VIEWERS, page.expect, strict=True):
            if viewer == "signed out":
                http, form = api.http, {}
            else:
                browser = await api.person(viewer)
                http, form = browser.http, {"csrf_token": browser.csrf}
            got = await _outcome(http, page, form)
            if got != expected:
                wrong.append(f"{page.operation}: {viewer}: {got}, not {expected}")
    assert not wrong, wrong


async def _outcome(http: httpx.AsyncClient, page: Page, form: dict[str, str]) -> str:
    """What the viewer met; a stream is read only as far as its first event."""
    data = form if page.method == "POST" else None
    async with http.stream(page.method, page.path, data=data) as response:
        status = response.status_code
        if status == 303 and response.headers.get("location") == "/sign-in":
            return SIGN_IN
        if status in (401, 403):
            return UNAUTHORISED if status == 401 else REFUSED
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    return SIGNED_OUT_EVENT if "signed-out" in line else OPEN
                if line.startswith((":", "retry:")):  # the stream is theirs
                    return OPEN
        return OPEN
