"""The managers' page of API clients (/manage/clients): who may call the API (the
police forces' systems, integrators, on-call staff and analysts' tools), made and
revoked without the command line. A token is shown once, on the page that made it;
the list never shows one (only their hashes are kept: services/api/auth.py)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.api.auth import ClientError, Role
from services.api.deps import Deps
from services.api.web.pages import SHARED, ManagerVisit

router = APIRouter(include_in_schema=False)
log = structlog.get_logger()

ROLES = {
    Role.police: "Police force: reports its missing children, sees their alerts",
    Role.integrator: "Integrator: feeds the placements and recipients directories",
    Role.staff: "On-call staff: reads and acknowledges alerts",
    Role.analyst: "Analyst: aggregate reports, nothing about any one child",
}
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
_FORCE = re.compile(r"[A-Z][A-Z0-9_]{1,19}")


def check(name: str, role: str, force: str) -> dict[str, str]:
    """The form's errors, by field id (the same rules as ``lantern clients
    create``: a force for police clients, and only for them)."""
    errors = {}
    if not name:
        errors["name"] = "Enter a name for the client"
    elif not _NAME.fullmatch(name):
        errors["name"] = (
            "Name must be up to 100 lower-case letters, digits, dots, dashes or "
            "underscores, starting with a letter or digit"
        )
    if role not in set(Role):
        errors["role"] = "Select the client's role"
    elif role == Role.police and not force:
        errors["force"] = "Enter the police force of a police client"
    elif role == Role.police and not _FORCE.fullmatch(force):
        errors["force"] = "Police force must be its code in capitals, like KENT or MET"
    elif role != Role.police and force:
        errors["force"] = "Only a police client has a police force: leave it empty"
    return errors


@router.get("/manage/clients")
async def clients_page(request: Request, visit: ManagerVisit, deps: Deps) -> Response:
    clients = await deps.clients.list()
    return SHARED.render(
        request, visit, "clients.html.j2", title="API clients", clients=clients,
        revoked=request.query_params.get("revoked") is not None,
    )  # fmt: skip


@router.get("/manage/clients/new")
async def new_client_page(request: Request, visit: ManagerVisit) -> Response:
    return _form(request, visit, {}, {})


def _form(
    request: Request,
    visit: ManagerVisit,
    values: dict[str, str],
    errors: dict[str, str],
) -> Response:
    return SHARED.render(
        request, visit, "client_new.html.j2", title="Create an API client",
        values=values, errors=errors, roles=ROLES,
        status_code=400 if errors else 200,
    )  # fmt: skip


@router.post("/manage/clients")
async def create_client(request: Request, visit: ManagerVisit, deps: Deps) -> Response:
    form = await visit.checked_form(request)
    values = {k: str(form.get(k, "")).strip() for k in ("name", "role", "force")}
    errors = check(values["name"], values["role"], values["force"])
    if not errors:
        role = Role(values["role"])
        try:
            token = await deps.clients.create(
                values["name"], role, values["force"] or None
            )
        except ClientError as exc:
            errors = {"name": _taken(str(exc))}
        else:
            log.info(
                "api_client_created", client=values["name"], role=role,
                actor=visit.person.actor,
            )  # fmt: skip
            return SHARED.render(
                request, visit, "client_created.html.j2", title="API client created",
                name=values["name"], role=role, token=token,
            )  # fmt: skip
    return _form(request, visit, values, errors)


def _taken(reason: str) -> str:
    return (
        "A client with this name exists already: choose another name"
        if "exists" in reason
        else reason
    )


async def _one(deps: Deps, client_id: uuid.UUID) -> dict[str, Any] | None:
    return next(
        (c for c in await deps.clients.list() if c["client_id"] == client_id), None
    )


@router.get("/manage/clients/{client_id}/revoke")
async def revoke_page(
    request: Request, client_id: uuid.UUID, visit: ManagerVisit, deps: Deps
) -> Response:
    client = await _one(deps, client_id)
    if client is None or client["revoked_at"] is not None:
        return RedirectResponse("/manage/clients", 303)
    return SHARED.render(
        request, visit, "client_revoke.html.j2", title="Revoke an API client",
        client=client,
    )  # fmt: skip


@router.post("/manage/clients/{client_id}/revoke")
async def revoke_client(
    request: Request, client_id: uuid.UUID, visit: ManagerVisit, deps: Deps
) -> Response:
    await visit.checked_form(request)
    client = await _one(deps, client_id)
    if client is not None and client["revoked_at"] is None:
        try:
            await deps.clients.revoke(client["name"])
        except ClientError:
            pass  # revoked meanwhile: what was asked is done
        else:
            log.info(
                "api_client_revoked", client=client["name"], actor=visit.person.actor
            )
    return RedirectResponse("/manage/clients?revoked", 303)
