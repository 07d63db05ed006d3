"""Who saw what: a row of ``audit_log`` for every request that reads children's
personal data or changes anything, and for every command that does (services/cli).

Every route of the app is classified in ``ROUTES`` (a test fails on one that is
not): ``Access.read``, ``Access.change``, or ``Unaudited`` with the reason. The
``AuditTrail`` middleware writes the row as the response starts, before any of its
body is sent, so a failed write fails the request rather than leave an access
unrecorded; an error after authentication (a 404, a 409, a 500) is recorded too,
as the access attempt it is. The actor is named by whoever authenticates the
request (``identify``: the API client, the person signed in, the signed link); a
request nobody authenticated (a 401) reached no data and has no row.

The row holds ids only: the actor, the operation as the route's template, the
child or episode from the route's path (or from the route, ``about``), the other
ids of the path, and for a read the query (what was listed: status, page), never
a name or a body.
"""

from __future__ import annotations

import getpass
import socket
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import structlog
from fastapi.routing import APIRoute
from sqlalchemy import Select, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events.envelope import utcnow
from events.store.engine import writer
from services.api.tables import audit_log

log = structlog.get_logger()
KEY = "lantern.audit"
DETAIL_MAX = 500
SUBJECTS = ("episode_id", "la_child_id")
SECRET_PARAMETERS = frozenset({"token", "s", "d", "e", "code", "state"})
"""Never written: sign-in link tokens, a signed link's signature, OIDC codes."""


class Access(StrEnum):
    read = "read"
    change = "change"


@dataclass(frozen=True)
class Unaudited:
    reason: str


SIGN_IN = Unaudited("signing in and out: no child's data")
OPEN = Unaudited("open to all: no personal data")
AGGREGATE = Unaudited("aggregate figures only")
READ, CHANGE = Access.read, Access.change

ROUTES: Mapping[str, Access | Unaudited] = {
    # the API (/v1)
    "POST /v1/missing-reports": CHANGE,
    "GET /v1/episodes": READ,
    "GET /v1/episodes/{episode_id}": READ,
    "PATCH /v1/episodes/{episode_id}": CHANGE,
    "POST /v1/episodes/{episode_id}/updates": CHANGE,
    "POST /v1/episodes/{episode_id}/found": CHANGE,
    "POST /v1/episodes/{episode_id}/withdrawal": CHANGE,
    "POST /v1/episodes/{episode_id}/reclassification": CHANGE,
    "PUT /v1/children/{la_child_id}": CHANGE,
    "DELETE /v1/children/{la_child_id}/personal-data": CHANGE,  # erasure
    "POST /v1/children/{la_child_id}/family-group-conferences": CHANGE,
    "GET /v1/children/{la_child_id}/history": READ,
    "GET /v1/recipients": READ,  # staff's contact details
    "PUT /v1/recipients/{recipient_id}": CHANGE,
    "DELETE /v1/recipients/{recipient_id}": CHANGE,
    # webhook subscriptions: who is sent children's events is an act worth a row
    "POST /v1/subscriptions": CHANGE,
    "GET /v1/subscriptions": READ,
    "GET /v1/subscriptions/{subscription_id}": READ,
    "PATCH /v1/subscriptions/{subscription_id}": CHANGE,
    "DELETE /v1/subscriptions/{subscription_id}": CHANGE,
    "POST /v1/subscriptions/{subscription_id}/replay": CHANGE,
    "GET /v1/alerts": READ,
    "POST /v1/alerts/{alert_id}/ack": CHANGE,
    "GET /v1/alerts/stream": READ,
    "GET /v1/alerts/{alert_id}/ack-link": Unaudited("shows a button, nothing else"),
    "POST /v1/alerts/{alert_id}/ack-link": CHANGE,
    "POST /v1/callbacks/notify": Unaudited(
        "GOV.UK Notify's delivery receipts: a machine's, recorded as events"
    ),
    "GET /v1/episodes/{episode_id}/return-interview": READ,
    "PUT /v1/episodes/{episode_id}/return-interview": CHANGE,
    "GET /v1/return-interviews": READ,
    "GET /v1/reports/panel": AGGREGATE,
    "GET /health": OPEN,
    "GET /ready": OPEN,
    "GET /metrics": Unaudited("counts by route, type and outcome: no personal data"),
    "GET /openapi.json": OPEN,
    "GET /asyncapi.json": OPEN,
    "GET /docs": OPEN,
    "GET /docs/oauth2-redirect": OPEN,
    # the staff's pages
    "GET /": SIGN_IN,
    "GET /sign-in": SIGN_IN,
    "GET /sign-in/link/{token}": SIGN_IN,
    "POST /sign-in/link/{token}": SIGN_IN,
    "GET /sign-in/oidc": SIGN_IN,
    "GET /sign-in/callback": SIGN_IN,
    "POST /sign-out": SIGN_IN,
    "GET /now": READ,
    "GET /now/alerts-fragment": READ,
    "GET /now/stream": READ,
    "POST /now/alerts/{alert_id}/acknowledge": CHANGE,
    "GET /manage/recipients": READ,
    "GET /episodes/{episode_id}": READ,
    "GET /frequently-missing": READ,
    "GET /return-interviews": READ,
    "GET /return-interviews/{episode_id}": READ,
    "POST /return-interviews/{episode_id}": CHANGE,
    "GET /reports": AGGREGATE,
    "GET /reports/panel.pdf": AGGREGATE,
    "GET /reports/panel.json": AGGREGATE,
    "GET /manage/clients": Unaudited("API clients' names and roles: no child's data"),
    "GET /manage/clients/new": Unaudited("an empty form"),
    "POST /manage/clients": CHANGE,  # who may read children's data
    "GET /manage/clients/{client_id}/revoke": Unaudited("a confirmation form"),
    "POST /manage/clients/{client_id}/revoke": CHANGE,
}


@dataclass
class Note:
    """What the request's handlers learn for its row: who, and about whom."""

    actor: str | None = None
    la_child_id: str | None = None
    episode_id: uuid.UUID | None = None


def identify(request: Request, actor: str) -> None:
    """Name who is asking, once they are authenticated."""
    if (note := request.scope.get(KEY)) is not None:
        note.actor = actor


def about(
    request: Request,
    *,
    la_child_id: str | None = None,
    episode_id: uuid.UUID | None = None,
) -> None:
    """The child or episode a route learns of itself (one it creates)."""
    if (note := request.scope.get(KEY)) is not None:
        note.la_child_id = la_child_id or note.la_child_id
        note.episode_id = episode_id or note.episode_id


@dataclass(frozen=True)
class Entry:
    actor: str
    operation: str
    access: Access
    source: str
    status: int
    la_child_id: str | None = None
    episode_id: uuid.UUID | None = None
    detail: str | None = None
    at: datetime = field(default_factory=utcnow)


async def record(engine: AsyncEngine, *entries: Entry) -> None:
    if not entries:
        return
    rows = [
        {
            "at": e.at,
            "actor": e.actor[:120],
            "operation": e.operation[:200],
            "access": e.access.value,
            "la_child_id": e.la_child_id[:40] if e.la_child_id else None,
            "episode_id": e.episode_id,
            "detail": e.detail[:DETAIL_MAX] if e.detail else None,
            "source": e.source[:255],
            "status": e.status,
        }
        for e in entries
    ]
    async with writer(engine).begin() as conn:
        await conn.execute(insert(audit_log), rows)


@dataclass(frozen=True)
class Query:
    la_child_id: str | None = None
    episode_id: uuid.UUID | None = None
    actor: str | None = None
    since: datetime | None = None
    limit: int = 1000


async def trail(engine: AsyncEngine, query: Query) -> list[dict[str, Any]]:
    """The rows that match every filter given, newest first."""
    statement: Select[Any] = select(audit_log)
    if query.la_child_id is not None:
        statement = statement.where(audit_log.c.la_child_id == query.la_child_id)
    if query.episode_id is not None:
        statement = statement.where(audit_log.c.episode_id == query.episode_id)
    if query.actor is not None:
        statement = statement.where(audit_log.c.actor == query.actor)
    if query.since is not None:
        statement = statement.where(audit_log.c.at >= query.since)
    statement = statement.order_by(
        audit_log.c.at.desc(), audit_log.c.audit_id.desc()
    ).limit(query.limit)
    async with engine.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(statement)]


def command_actor() -> str:
    """Who runs a command: the operating system's user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for the uid (a bare container)
        return "cli:unknown"


def command_entry(
    command: str,
    access: Access,
    *,
    status: int = 0,
    la_child_id: str | None = None,
    detail: str | None = None,
) -> Entry:
    """A command's row: its user, on this host."""
    return Entry(
        actor=command_actor(),
        operation=command,
        access=access,
        source=socket.gethostname(),
        status=status,
        la_child_id=la_child_id,
        detail=detail,
    )


@asynccontextmanager
async def audited_command(
    engine: AsyncEngine,
    command: str,
    access: Access,
    *,
    la_child_id: str | None = None,
    detail: str | None = None,
) -> AsyncIterator[list[Entry]]:
    """One row for a command (status 0, or 1 when it fails), written as it ends;
    the rows a command appends to the list it is given (one a child) with it."""
    more: list[Entry] = []
    status = 1
    try:
        yield more
        status = 0
    finally:
        entry = command_entry(
            command, access, status=status, la_child_id=la_child_id, detail=detail
        )
        await record(engine, entry, *more)


class AuditTrail:
    """Writes the row of each request to a route that reads or changes personal
    data, once someone is authenticated, as its response starts (or fails)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[KEY] = Note()
        written = False

        async def send_audited(message: Message) -> None:
            nonlocal written
            if message["type"] == "http.response.start" and not written:
                written = True
                await _write(scope, message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_audited)
        except Exception:
            if not written:
                written = True
                await _write(scope, 500)
            raise


async def _write(scope: Scope, status: int) -> None:
    note: Note = scope[KEY]
    route = scope.get("route")
    if note.actor is None or not isinstance(route, APIRoute):
        return
    method = "GET" if scope["method"] == "HEAD" else scope["method"]
    operation = f"{method} {route.path}"
    access = ROUTES.get(operation)
    if not isinstance(access, Access):
        return
    params: dict[str, Any] = scope.get("path_params", {})
    episode = _uuid(params.get("episode_id")) or note.episode_id
    others = [
        f"{name}={value}"
        for name, value in params.items()
        if name not in SUBJECTS and name not in SECRET_PARAMETERS
    ]
    if method == "GET":
        others += _query(scope)
    client = scope.get("client")
    entry = Entry(
        actor=note.actor,
        operation=operation,
        access=access,
        source=client[0] if client else "",
        status=status,
        la_child_id=params.get("la_child_id") or note.la_child_id,
        episode_id=episode,
        detail="&".join(others) or None,
    )
    try:
        await record(scope["app"].state.container.store.engine, entry)
    except Exception:
        log.exception("audit_write_failed", operation=operation, actor=note.actor)
        raise


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value is not None else None
    except ValueError:
        return None


def _query(scope: Scope) -> list[str]:
    request = Request(scope)
    return [
        f"{name}={value}"
        for name, value in request.query_params.multi_items()
        if name not in SECRET_PARAMETERS
    ]
