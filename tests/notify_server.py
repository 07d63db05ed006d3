"""A loopback stand-in for GOV.UK Notify's REST API v2, for the channel tests: it
checks the JWT as Notify does (HS256, iss = service id, iat within 30 s), validates
phone numbers and addresses, records what it accepted, answers with Notify's error
bodies when told to, and posts delivery receipts to a callback URL.

Also `serve_app`, which runs any ASGI app with uvicorn in a task on a free port.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import uvicorn
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from jwt.types import Options

from tests.e2e.processes import free_port
from tests.waiting import HTTP_TIMEOUT, eventually

CLOCK_BOUND_S = 30
REQUIRED: Options = {"require": ["iss", "iat"]}
UK_MOBILE = re.compile(r"^(?:\+44|0044|44|0)7\d{9}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Fault:
    """The next request(s) get this answer instead of being processed."""

    status: int
    error: str
    message: str
    retry_after: str | None = None


@dataclass(frozen=True)
class Received:
    id: str
    kind: str  # "sms" | "email"
    body: dict[str, Any]
    iss: str


@dataclass
class NotifyState:
    service_id: str
    secret: str
    templates: set[str]
    received: list[Received] = field(default_factory=list)
    refused_tokens: list[str] = field(default_factory=list)  # the error messages
    faults: list[Fault] = field(default_factory=list)

    def fail_next(self, fault: Fault, *, times: int = 1) -> None:
        self.faults.extend([fault] * times)


def rate_limited(*, retry_after: str | None = None) -> Fault:
    message = "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"
    return Fault(429, "RateLimitError", message, retry_after)


def daily_limit() -> Fault:
    return Fault(429, "TooManyRequestsError", "Exceeded send limits (50) for today")


def _error(status: int, error: str, message: str, **headers: str) -> JSONResponse:
    body = {"status_code": status, "errors": [{"error": error, "message": message}]}
    return JSONResponse(body, status_code=status, headers=headers)


class _AuthError(Exception):
    pass


def _issuer(state: NotifyState, authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme != "Bearer" or not token:
        raise _AuthError("Unauthorized: authentication token must be provided")
    try:
        claims = jwt.decode(token, state.secret, ["HS256"], options=REQUIRED)
    except jwt.InvalidTokenError:
        raise _AuthError("Invalid token: signature, api token not found") from None
    if claims["iss"] != state.service_id:
        raise _AuthError("Invalid token: service not found")
    if abs(time.time() - int(claims["iat"])) > CLOCK_BOUND_S:
        raise _AuthError(
            "Error: Your system clock must be accurate to within 30 seconds"
        )
    return str(claims["iss"])


def _invalid(kind: str, body: dict[str, Any]) -> str | None:
    if kind == "sms":
        number = re.sub(r"[\s()-]", "", str(body.get("phone_number", "")))
        return (
            None if UK_MOBILE.match(number) else "phone_number Not a UK mobile number"
        )
    address = str(body.get("email_address", ""))
    return None if EMAIL.match(address) else "email_address Not a valid email address"


def create_notify_app(state: NotifyState) -> FastAPI:
    app = FastAPI()

    @app.post("/v2/notifications/{kind}", response_model=None)
    async def send(
        kind: str, request: Request, authorization: str | None = Header(None)
    ) -> JSONResponse:
        try:
            iss = _issuer(state, authorization)
        except _AuthError as refused:
            state.refused_tokens.append(str(refused))
            return _error(403, "AuthError", str(refused))
        if state.faults:
            f = state.faults.pop(0)
            extra = {"Retry-After": f.retry_after} if f.retry_after else {}
            return _error(f.status, f.error, f.message, **extra)
        body = await request.json()
        if kind not in ("sms", "email"):
            return _error(400, "ValidationError", f"{kind} is not a notification type")
        if (problem := _invalid(kind, body)) is not None:
            return _error(400, "ValidationError", problem)
        if body.get("template_id") not in state.templates:
            return _error(400, "BadRequestError", "Template not found")
        notification = Received(str(uuid.uuid4()), kind, body, iss)
        state.received.append(notification)
        return JSONResponse(_created(notification, str(request.base_url)), 201)

    @app.get("/v2/notifications", response_model=None)
    async def search(
        reference: str | None = None,
        template_type: str | None = None,
        authorization: str | None = Header(None),
    ) -> JSONResponse:
        """Notify's "get all notifications", filtered as Lantern asks."""
        try:
            _issuer(state, authorization)
        except _AuthError as refused:
            return _error(403, "AuthError", str(refused))
        found = [
            {"id": n.id, "reference": n.body.get("reference"), "type": n.kind,
             "status": "delivered"}
            for n in state.received
            if (reference is None or n.body.get("reference") == reference)
            and (template_type is None or n.kind == template_type)
        ]  # fmt: skip
        return JSONResponse({"notifications": found, "links": {}})

    return app


def _created(n: Received, root: str) -> dict[str, Any]:
    personalisation = n.body.get("personalisation") or {}
    content: dict[str, Any] = {"body": personalisation.get("body", "")}
    if n.kind == "sms":
        content["from_number"] = "GOVUK"
    else:
        content |= {"subject": personalisation.get("subject", ""), "from_email": "x@y"}
    template = n.body["template_id"]
    return {
        "id": n.id,
        "reference": n.body.get("reference"),
        "content": content,
        "uri": f"{root}v2/notifications/{n.id}",
        "template": {
            "id": template,
            "version": 1,
            "uri": f"{root}templates/{template}",
        },
    }


@dataclass
class NotifyServer:
    base_url: str
    state: NotifyState

    async def send_receipt(
        self, notification_id: str, status: str, *, url: str, token: str
    ) -> httpx.Response:
        """POST a delivery receipt as Notify's callbacks do, `to` and all."""
        [n] = [r for r in self.state.received if r.id == notification_id]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        to = n.body.get("phone_number") or n.body.get("email_address")
        receipt = {
            "id": n.id, "reference": n.body.get("reference"), "to": to,
            "status": status, "created_at": now, "completed_at": now, "sent_at": now,
            "notification_type": n.kind, "template_id": n.body["template_id"],
            "template_version": 1,
        }  # fmt: skip
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
            headers = {"Authorization": f"Bearer {token}"}
            return await client.post(url, json=receipt, headers=headers)


@asynccontextmanager
async def serve_app(app: Any) -> AsyncIterator[str]:
    """Run `app` on 127.0.0.1 until the block ends; yields its root URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started or task.done(), what="server listening")
    if task.done():
        await task  # raises what stopped it
        raise AssertionError("server stopped before it started")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def serve_notify(
    service_id: str, secret: str, *, templates: set[str]
) -> AsyncIterator[NotifyServer]:
    state = NotifyState(service_id, secret, templates)
    async with serve_app(create_notify_app(state)) as root:
        yield NotifyServer(root, state)
