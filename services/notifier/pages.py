"""The notifier's staff pages: "Now", the open alerts on-call staff keep open all
shift (updated live over server-sent events, acknowledged with one click), and the
managers' read-only view of the recipients' directory.

The live list asks for no more than the staff's API token sees (the council's
alerts, not a police team's). Its stream and refreshes do not count as activity:
an open tab is not someone at the keyboard, so the idle timeout still ends an
unattended session, and the stream then says ``signed-out`` and ends."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import (
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from services.api.container import Container
from services.api.deps import Deps
from services.api.web.pages import ManagerVisit, Pages, StaffVisit
from services.api.web.people import WebRole
from services.api.web.sessions import COOKIE, Visit
from services.notifier.api import (
    COUNCIL_STAFF,
    _acknowledge,
    alert_changes,
    resume_after,
)
from services.notifier.now import board
from services.notifier.recipients.projector import list_recipients

router = APIRouter(include_in_schema=False)
PAGES = Pages("services.notifier")
HEARTBEAT_S = 15.0
"""A comment line after this much quiet keeps proxies open; the session is checked."""
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
KINDS = {
    "duty_team": "Duty team",
    "out_of_hours": "Out of hours",
    "mcet": "Police exploitation team (MCET)",
    "la_contact": "Home local authority contact",
    "team_manager": "Team manager",
    "escalation": "Escalation step",
}


async def _watching(request: Request) -> tuple[str, Visit | None]:
    """The session of a page's background request, without counting it as use."""
    deps: Container = request.app.state.container
    token = request.cookies.get(COOKIE) or ""
    visit = (
        await deps.web.sessions.visit(token, deps.now(), touch=False) if token else None
    )
    if visit is not None and not visit.person.may(WebRole.staff):
        raise HTTPException(403, "not a page for your role")
    return token, visit


Watching = Annotated[tuple[str, Visit | None], Depends(_watching)]


@router.get("/now", response_class=HTMLResponse)
async def now_page(request: Request, visit: StaffVisit, deps: Deps) -> Response:
    shown = await board(deps, deps.now())
    return PAGES.render(
        request, visit, "now.html.j2", title="Now: open alerts", board=shown,
        acknowledged=request.query_params.get("acknowledged") == "1",
    )  # fmt: skip


@router.get("/now/alerts-fragment", response_class=HTMLResponse)
async def now_fragment(request: Request, watching: Watching, deps: Deps) -> Response:
    """The list alone, for the page's script to swap in after each change."""
    _, visit = watching
    if visit is None:
        return Response("signed out", 401, headers={"Cache-Control": "no-store"})
    shown = await board(deps, deps.now())
    html = PAGES.environment.get_template("_alerts.html.j2").render(
        board=shown, csrf_token=visit.csrf_token
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.post("/now/alerts/{alert_id}/acknowledge")
async def acknowledge_page(
    alert_id: uuid.UUID, request: Request, visit: StaffVisit, deps: Deps
) -> Response:
    await visit.checked_form(request)
    try:
        await _acknowledge(
            deps, alert_id, COUNCIL_STAFF, actor=visit.person.actor, via="web"
        )
    except HTTPException as exc:
        if exc.status_code == 409:  # the episode ended meanwhile: nothing to do
            return RedirectResponse("/now", 303)
        message = (
            "This alert was not found. It may have been removed."
            if exc.status_code == 404
            else "Many people are changing this alert at once. Go back and try again."
        )
        return PAGES.render(
            request, visit, "message.html.j2", title="The alert was not acknowledged",
            message=message, link={"href": "/now", "label": "Back to open alerts"},
            status_code=exc.status_code,
        )  # fmt: skip
    return RedirectResponse("/now?acknowledged=1", 303)


@router.get("/now/stream")
async def now_stream(
    request: Request,
    watching: Watching,
    deps: Deps,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """An ``alert`` event each time an alert staff may see is raised, updated,
    acknowledged, delivered or closed; ``signed-out`` when the session has ended."""
    token, visit = watching
    if visit is None:
        return StreamingResponse(
            _signed_out(), media_type="text/event-stream", headers=STREAM_HEADERS
        )
    after = await resume_after(deps, last_event_id)

    async def still() -> bool:
        return await deps.web.sessions.alive(token, deps.now())

    async def feed() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        async for envelope in alert_changes(
            request, deps, COUNCIL_STAFF, after, heartbeat_s=HEARTBEAT_S, still=still
        ):
            if envelope is None:
                yield ": keep-alive\n\n"
                continue
            data = {"type": envelope.type, "alert_id": envelope.data["alert_id"]}
            text = json.dumps(data, separators=(",", ":"))
            yield f"id: {envelope.position}\nevent: alert\ndata: {text}\n\n"
        if not deps.stop.is_set() and not await still():
            async for line in _signed_out():
                yield line

    return StreamingResponse(
        feed(), media_type="text/event-stream", headers=STREAM_HEADERS
    )


async def _signed_out() -> AsyncIterator[str]:
    yield 'event: signed-out\ndata: {"href":"/sign-in"}\n\n'


@router.get("/manage/recipients", response_class=HTMLResponse)
async def recipients_page(
    request: Request, visit: ManagerVisit, deps: Deps
) -> Response:
    entries = await list_recipients(deps.store)
    rows = [
        {
            "kind": KINDS.get(e.kind, e.kind),
            "key": e.key,
            "name": e.name,
            "channels": [
                c
                for c in (
                    mask_email(e.email) and f"E-mail {mask_email(e.email)}",
                    mask_phone(e.phone) and f"Text message {mask_phone(e.phone)}",
                    mask_url(e.webhook_url) and f"Webhook {mask_url(e.webhook_url)}",
                )
                if c
            ],
        }
        for e in entries
    ]
    return PAGES.render(
        request, visit, "recipients.html.j2", title="Recipients", recipients=rows
    )


def mask_email(email: str | None) -> str | None:
    """``a…@council.example``: enough to tell two apart, not to write to."""
    if not email:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    return f"…{digits[-3:]}"


def mask_url(url: str | None) -> str | None:
    """The host alone: a webhook's path may hold its secret."""
    if not url:
        return None
    found = re.match(r"(https?://[^/?#]+)", url)
    return f"{found.group(1)}/…" if found else "…"
