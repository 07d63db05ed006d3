"""E-mail over the council's SMTP relay (aiosmtplib), one connection per message.

The Message-ID is built from the idempotency key, so a message sent twice after a
crash carries the same id, and mail systems that de-duplicate on it show it once.
SMTP reply codes decide retry: 4xx is temporary, 5xx permanent (RFC 5321 4.2.1).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Self

import aiosmtplib
from aiosmtplib import SMTPException
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from services.notifier.channels import (
    DeliveryError,
    Message,
    PermanentDeliveryError,
    Receipt,
    TemporaryDeliveryError,
)
from services.notifier.channels.outcome import failed, sent


class SmtpSettings(BaseModel):
    """The SMTP relay; no host means e-mail over SMTP is not configured."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    host: str | None = None
    port: int = Field(587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = Field(True, description="Require STARTTLS before sending")
    from_address: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$")
    timeout_s: float = Field(10.0, gt=0, le=120, description="Whole send, per message")

    @model_validator(mode="after")
    def _sender_when_configured(self) -> Self:
        if self.host is not None and self.from_address is None:
            raise ValueError("from_address is required when host is set")
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        return self

    @property
    def configured(self) -> bool:
        return self.host is not None


def compose(message: Message, *, sender: str, now: datetime) -> EmailMessage:
    """Raises ValueError for an address or subject no header can carry."""
    if not message.email or any(c in message.email for c in "\r\n<>,"):
        raise ValueError("unusable address")
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.email
    mail["Subject"] = " ".join(message.subject.split())
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = f"<{message.idempotency_key}@{sender.rsplit('@', 1)[1]}>"
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    text = message.body
    if message.ack_url:
        text = f"{text}\n\nAcknowledge: {message.ack_url}\n"
    mail.set_content(text)
    return mail


def smtp_error(exc: Exception) -> DeliveryError:
    """Reply codes only: the reply text usually quotes the refused address."""
    code: int | None = None
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        code = exc.recipients[0].code if exc.recipients else None
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        code = exc.code
    elif isinstance(exc, TimeoutError):
        return TemporaryDeliveryError(SmtpEmailChannel.name, "timeout")
    elif isinstance(exc, aiosmtplib.SMTPNotSupported) or type(exc) is SMTPException:
        # The server lacks what the settings require (STARTTLS, AUTH): sending
        # without it is not an option, and retrying will not add it.
        return PermanentDeliveryError(SmtpEmailChannel.name, "smtp_not_supported")
    if code is not None and 500 <= code < 600:
        return PermanentDeliveryError(SmtpEmailChannel.name, f"smtp_{code}")
    if code is not None and code >= 0:
        return TemporaryDeliveryError(SmtpEmailChannel.name, f"smtp_{code}")
    return TemporaryDeliveryError(SmtpEmailChannel.name, type(exc).__name__)


class SmtpEmailChannel:
    name = "email"

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if settings.host is None or settings.from_address is None:
            raise ValueError("email: no host, SMTP is not configured")
        self._settings = settings
        self._host = settings.host
        self._sender = settings.from_address
        self._clock = clock

    async def send(self, message: Message) -> Receipt:
        now = self._clock()
        try:
            mail = compose(message, sender=self._sender, now=now)
        except ValueError:
            raise failed(
                PermanentDeliveryError(self.name, "invalid_address"), message
            ) from None
        try:
            await self._deliver(mail)
        except (SMTPException, OSError) as exc:
            raise failed(smtp_error(exc), message) from None
        return sent(self.name, message, provider_id=mail["Message-ID"], at=now)

    async def _deliver(self, mail: EmailMessage) -> None:
        s = self._settings
        password = s.password.get_secret_value() if s.password else None
        async with asyncio.timeout(s.timeout_s):
            await aiosmtplib.send(
                mail,
                hostname=self._host,
                port=s.port,
                username=s.username,
                password=password,
                start_tls=s.starttls,
                timeout=s.timeout_s,
            )
