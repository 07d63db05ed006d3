"""What every route depends on: the container, and the API client behind the bearer
token with its role (``Police``, ``Staff``, ``Integrator``)."""

from __future__ import annotations

import math
import time
import uuid
from typing import Annotated

import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPBearer

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
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        challenge = {"WWW-Authenticate": "Bearer"}
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(401, "a bearer token is required", headers=challenge)
        client = await deps.clients.authenticate(token)
        if client is None:
            raise HTTPException(401, "the token is not valid", headers=challenge)
        wait = deps.limiter.take(client.client_id, time.monotonic())
        if wait:
            raise HTTPException(
                429, "rate limit exceeded", {"Retry-After": str(math.ceil(wait))}
            )
        structlog.contextvars.bind_contextvars(
            client=client.name, correlation_id=str(_correlation_id(request))
        )
        if client.role not in self.allowed:
            raise HTTPException(403, self.refusal)
        return client


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
OnCall = Annotated[ApiClient, Depends(_Client(Role.staff, Role.police))]
"""The council's staff, or the police through their force's client: the route
narrows what each may see."""
