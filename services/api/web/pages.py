"""Rendering a page: each service's own templates over the shared layout, with the
menu its viewer may use, and who may see a page (``StaffVisit`` and the rest).

Someone not signed in is sent to sign in; someone signed in without the role gets
a 403 page; a form without its CSRF token a 403 too, and nothing is done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from services.api.audit import identify
from services.api.container import Container
from services.api.web.people import WebRole
from services.api.web.sessions import COOKIE, CsrfRefused, Visit


@dataclass(frozen=True)
class MenuItem:
    label: str
    href: str
    roles: tuple[WebRole, ...]


MENU = (
    MenuItem("Now", "/now", (WebRole.staff,)),
    MenuItem("Return interviews", "/return-interviews", (WebRole.staff,)),
    MenuItem("Frequently missing", "/frequently-missing", (WebRole.staff,)),
    MenuItem("Reports", "/reports", (WebRole.staff, WebRole.analyst)),
    MenuItem("Recipients", "/manage/recipients", (WebRole.manager,)),
    MenuItem("API clients", "/manage/clients", (WebRole.manager,)),
)


class SignInRequired(Exception):
    pass


class NotAllowed(Exception):
    pass


class _Visitor:
    def __init__(self, *allowed: WebRole) -> None:
        self.allowed = allowed

    async def __call__(self, request: Request) -> Visit:
        deps: Container = request.app.state.container
        token = request.cookies.get(COOKIE)
        visit = token and await deps.web.sessions.visit(token, deps.now())
        if not visit:
            raise SignInRequired
        structlog.contextvars.bind_contextvars(person=str(visit.person.person_id))
        identify(request, visit.person.actor)
        if not visit.person.may(*self.allowed):
            raise NotAllowed
        return visit


SignedIn = Annotated[Visit, Depends(_Visitor(*WebRole))]
StaffVisit = Annotated[Visit, Depends(_Visitor(WebRole.staff))]
"""Council staff (and managers): children's data."""
ReportVisit = Annotated[Visit, Depends(_Visitor(WebRole.staff, WebRole.analyst))]
"""Whoever reads aggregate reports."""
ManagerVisit = Annotated[Visit, Depends(_Visitor(WebRole.manager))]


class Pages:
    """One service's pages: ``Pages("services.notifier")`` renders that package's
    ``templates/`` folder, whose templates extend ``layout.html.j2``."""

    def __init__(self, package: str) -> None:
        self.environment = Environment(
            loader=ChoiceLoader(
                [
                    PackageLoader(package, "templates"),
                    PackageLoader("services.api.web", "templates"),
                ]
            ),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(
        self,
        request: Request,
        visit: Visit | None,
        template: str,
        *,
        title: str,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        path = request.url.path
        menu = [
            {"label": i.label, "href": i.href, "current": path.startswith(i.href)}
            for i in MENU
            if visit and visit.person.may(*i.roles)
        ]
        html = self.environment.get_template(template).render(
            title=title,
            nav=menu,
            person=visit.person if visit else None,
            csrf_token=visit.csrf_token if visit else "",
            **context,
        )
        return HTMLResponse(html, status_code, headers={"Cache-Control": "no-store"})


SHARED = Pages("services.api.web")


def install_pages(app: FastAPI) -> None:
    """The answers to a page's refusals, as pages."""

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, _: Exception) -> Response:
        response = RedirectResponse("/sign-in", 303)
        if request.method == "GET" and request.url.path != "/":
            response.set_cookie(
                "lantern_next", request.url.path, httponly=True, samesite="lax",
                max_age=600, path="/sign-in",
            )  # fmt: skip
        return response

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, _: Exception) -> Response:
        return SHARED.render(
            request, None, "message.html.j2", title="You cannot see this page",
            message="Your role does not include this page. Ask a Lantern manager "
            "if you need it.", link={"href": "/", "label": "Go to your start page"},
            status_code=403,
        )  # fmt: skip

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _: Exception) -> Response:
        return SHARED.render(
            request, None, "message.html.j2", title="This form could not be sent",
            message="Nothing was changed. The form had expired or did not come from "
            "Lantern: go back, reload the page and try again.",
            status_code=403,
        )  # fmt: skip
