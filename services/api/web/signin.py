"""Signing in and out. With an identity provider configured (``LANTERN_OIDC_*``),
staff sign in there (services/api/web/oidc.py); on the embedded default, local
accounts use a one-time link from ``lantern users create``. A link only shows a
button: mail scanners open links, and must not use up someone's sign-in."""

from __future__ import annotations

import uuid
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.api.container import Container
from services.api.deps import Deps, admit, refuse
from services.api.web.pages import SHARED, SignedIn
from services.api.web.people import WebRole
from services.api.web.sessions import COOKIE, Visit, clear_cookie, set_cookie

router = APIRouter(include_in_schema=False)
log = structlog.get_logger()
NEXT_COOKIE = "lantern_next"


async def _maybe_signed_in(request: Request) -> Visit | None:
    deps: Container = request.app.state.container
    token = request.cookies.get(COOKIE)
    return await deps.web.sessions.visit(token, deps.now()) if token else None


MaybeSignedIn = Annotated[Visit | None, Depends(_maybe_signed_in)]


def start_page(visit: Visit) -> str:
    return "/now" if visit.person.may(WebRole.staff) else "/reports"


@router.get("/")
async def home(visit: MaybeSignedIn) -> RedirectResponse:
    return RedirectResponse(start_page(visit) if visit else "/sign-in", 303)


@router.get("/sign-in")
async def sign_in_page(request: Request, deps: Deps, visit: MaybeSignedIn) -> Response:
    if visit:
        return RedirectResponse(start_page(visit), 303)
    return SHARED.render(
        request, None, "sign_in.html.j2", title="Sign in",
        provider=deps.web.settings.oidc_issuer is not None,
        signed_out=request.query_params.get("signed-out") is not None,
    )  # fmt: skip


@router.get("/sign-in/link/{token}")
async def link_page(request: Request, token: str) -> HTMLResponse:
    return SHARED.render(
        request, None, "sign_in_link.html.j2", title="Sign in", token=token
    )


@router.post("/sign-in/link/{token}")
async def use_link(request: Request, token: str, deps: Deps) -> Response:
    admit(request, deps)
    person = await deps.web.people.use_link(token, deps.now())
    if person is None:
        refuse(request, deps, "sign-in link not valid")  # counted against the address
        return SHARED.render(
            request, None, "message.html.j2", title="This link cannot be used",
            message="Sign-in links work once, for a day. Ask a Lantern manager "
            "for a new one.", status_code=400,
        )  # fmt: skip
    return await signed_in(request, deps, person.person_id, how="link")


async def signed_in(
    request: Request, deps: Container, person_id: uuid.UUID, *, how: str
) -> Response:
    """The end of any sign-in: a new session, and on to where they were going."""
    token = await deps.web.sessions.start(person_id, deps.now())
    log.info("signed_in", person=str(person_id), how=how)
    going = request.cookies.get(NEXT_COOKIE, "")
    safe = going.startswith("/") and not going.startswith("//")
    response = RedirectResponse(going if safe else "/", 303)
    set_cookie(response, token, secure=deps.web.secure_cookies)
    response.delete_cookie(NEXT_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, visit: SignedIn, deps: Deps) -> Response:
    await visit.checked_form(request)
    await deps.web.sessions.end(request.cookies[COOKIE], deps.now())
    log.info("signed_out", person=str(visit.person.person_id))
    response = RedirectResponse("/sign-in?signed-out", 303)
    clear_cookie(response, secure=deps.web.secure_cookies)
    return response
