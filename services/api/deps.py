"""What every route depends on: the container, and the API client behind the bearer
token with its role (``Police``, ``Integrator``, and ``OnCall``: staff, or police,
whose routes narrow what each may see).

Failed authentication is limited by source address: past a burst of failures, an
address gets 429 before its credentials are even looked at, until its budget
refills. Every bad token otherwise costs a database lookup, and nothing would slow
down someone trying tokens.
"""

from __future__ import annotations

import ipaddress
import math
import time
import uuid
from typing import Annotated

import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPBearer

from services.api.audit import identify
from services.api.auth import ApiClient, Role
from services.api.container import Container
from services.api.errors import Rejected

CORRELATION_HEADER = "X-Correlation-ID"
CORRELATION_PARAMETER = {
    "name": CORRELATION_HEADER,
    "in": "header",
    "required": False,
    "description": "Ties the events this request records to the caller's own trail",
    "schema": {"type": "string", "format": "uuid"},
}


async def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


Deps = Annotated[Container, Depends(container)]


class _Client(HTTPBearer):
    """The bearer token's client, rate limited, with one of the ``allowed`` roles. One
    dependency taking only the request, its headers read here: FastAPI's cost per
    request grows with each parameter and sub-dependency it solves (a sixth of a
    stored report's CPU when the token and correlation id were two of them). Being
    an ``HTTPBearer``, it still puts the scheme in the OpenAPI document."""

    def __init__(self, *allowed: Role) -> None:
        super().__init__(
            auto_error=False,
            scheme_name="HTTPBearer",
            description="Token from `lantern clients create`",
        )
        self.allowed = allowed
        self.refusal = f"this needs an API client with the {' or '.join(allowed)} role"

    async def __call__(self, request: Request) -> ApiClient:  # type: ignore[override]
        deps = await container(request)
        admit(request, deps)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise refuse(request, deps, "a bearer token is required", BEARER)
        client = await deps.clients.authenticate(token)
        if client is None:
            raise refuse(request, deps, "the token is not valid", BEARER)
        identify(request, client.actor)
        if wait := deps.limiter.take(client.client_id, time.monotonic()):
            raise _too_many(wait, "rate limit exceeded")
        structlog.contextvars.bind_contextvars(
            client=client.name, correlation_id=str(_correlation_id(request))
        )
        if client.role not in self.allowed:
            raise HTTPException(403, self.refusal)
        return client


BEARER = {"WWW-Authenticate": "Bearer"}


def admit(request: Request, deps: Container) -> None:
    """429 for an address that has spent its failed authentications, before its
    credentials are looked at: call it first on any route that checks a token."""
    if wait := deps.auth_failures.wait(_source(request), time.monotonic()):
        raise _too_many(wait, "too many failed authentications from this address")


def refuse(
    request: Request,
    deps: Container,
    detail: str,
    headers: dict[str, str] | None = None,
) -> HTTPException:
    """The 401 for credentials that failed, counted against the address."""
    deps.auth_failures.take(_source(request), time.monotonic())
    return HTTPException(401, detail, headers=headers)


def _source(request: Request) -> str:
    """The caller's address as uvicorn has it (from X-Forwarded-For only behind a
    proxy it trusts: FORWARDED_ALLOW_IPS); an IPv6 one by its /64, which one
    machine may hold whole."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return host


def _too_many(wait: float, detail: str) -> HTTPException:
    return HTTPException(429, detail, {"Retry-After": str(math.ceil(wait))})


def _correlation_id(request: Request) -> uuid.UUID:
    """The caller's ``X-Correlation-ID``, else a new one for this request."""
    given = request.headers.get(CORRELATION_HEADER)
    if given is None:
        return uuid.uuid4()
    try:
        return uuid.UUID(given)
    except ValueError:
        raise Rejected(422, [(CORRELATION_HEADER, "is not a UUID")]) from None


Police = Annotated[ApiClient, Depends(_Client(Role.police))]
Integrator = Annotated[ApiClient, Depends(_Client(Role.integrator))]
Staff = Annotated[ApiClient, Depends(_Client(Role.staff))]
"""The council's staff alone: what the police never see (return interviews)."""
ReportReader = Annotated[ApiClient, Depends(_Client(Role.analyst, Role.staff))]
"""Who reads the aggregate reports: analysts (nothing else), and the council's staff."""
Manager = Annotated[ApiClient, Depends(_Client(Role.manager))]
"""Who may erase a child's personal data: nothing else."""
OnCall = Annotated[ApiClient, Depends(_Client(Role.staff, Role.police))]
"""Who is alerted: the council's staff, and police teams through their force's
client. The route decides which alerts each sees."""
