"""Real channel servers on loopback for tests: an SMTP inbox (aiosmtpd) and a
partner's webhook endpoint that verifies every signature."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from fastapi import FastAPI, Request, Response

from services.notifier.channels.webhook import verify_signature
from tests.e2e.processes import free_port

WEBHOOK_SECRET = "whsec-for-tests-only-0123456789abcdef"
SMTP_PASSWORD = "right-password"


@dataclass
class Inbox:
    """An aiosmtpd handler: keeps what it accepts, or refuses recipients."""

    refuse_with: str | None = None
    received: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[bytes] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, _: Any
    ) -> str:
        if self.refuse_with is not None:
            return self.refuse_with.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        assert isinstance(envelope.content, bytes)
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(mail, EmailMessage)
        self.received.append(mail)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
        auth_data: Any,
    ) -> AuthResult:  # fmt: skip
        assert isinstance(auth_data, LoginPassword)
        self.logins.append(auth_data.login)
        ok = auth_data.password == SMTP_PASSWORD.encode()
        return AuthResult(success=ok, handled=False)  # False: reply 535 on failure


@contextmanager
def serve_smtp(handler: Inbox) -> Iterator[int]:
    """The inbox listening on a free loopback port, which is yielded."""
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port,
        authenticator=handler.authenticate, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@dataclass
class Receiver:
    """A partner's endpoint: verifies every request, then answers `status`."""

    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)
    received: list[tuple[bool, dict[str, str], bytes]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks/{name}")
        async def hook(name: str, request: Request) -> Response:
            body = await request.body()
            header = request.headers.get("lantern-signature")
            valid = verify_signature(WEBHOOK_SECRET, header, body)
            headers = {**request.headers, "x-path": f"/hooks/{name}"}
            self.received.append((valid, headers, body))
            if self.hang:
                await self.release.wait()
            return Response(status_code=self.status, headers=self.headers)

        @app.post("/moved")
        async def moved() -> Response:
            return Response(status_code=307, headers={"Location": "/hooks/elsewhere"})

        return app
