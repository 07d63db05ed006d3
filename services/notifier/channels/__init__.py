"""How the notifier reaches a person: one Message to one recipient, sent by a Channel,
answered by a Receipt or by one of two errors that say whether a retry can help.

Errors carry codes only (SMTP reply codes, HTTP statuses, Notify error types), never a
provider's message text: that text often echoes the address back, and the code ends
up in events and logs. The contract and its settings are in docs/channels.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable
from uuid import UUID

from events.ids import derive_id

MessageKind = Literal["alert", "update", "closed", "escalation", "failure"]


def idempotency_key(
    alert_id: UUID, kind: MessageKind, recipient_id: str, occasion: str = ""
) -> str:
    """The same message to the same recipient always gets the same key, so a resend
    after a crash between sending and recording is recognisable by the provider.

    It is a uuid5 (a SHA-1 hash) of opaque ids: no personal data, so it is safe as a
    Notify `reference`. The kind is part of it because an update about an alert is
    a different message from the alert, and must not be dropped as its duplicate.
    """
    return str(derive_id("delivery", alert_id, kind, recipient_id))


@dataclass(frozen=True)
class Message:
    """What to tell one recipient. Only the address field of the channel used needs
    to be set. Everything but the ids stays out of repr: it may name the child."""

    alert_id: UUID
    recipient_id: str
    kind: MessageKind
    occasion: str = ""
    subject: str = field(default="", repr=False)
    body: str = field(default="", repr=False)
    ack_url: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)
    phone: str | None = field(default=None, repr=False)
    webhook_url: str | None = field(default=None, repr=False)

    @property
    def idempotency_key(self) -> str:
        return idempotency_key(
            self.alert_id, self.kind, self.recipient_id, self.occasion
        )


@dataclass(frozen=True)
class Receipt:
    """The provider took the message: from here on, delivery is its job."""

    channel: str
    provider_id: str | None
    accepted_at: datetime


class DeliveryError(Exception):
    """A send that did not get through; `code` is safe to record and log."""

    def __init__(self, channel: str, code: str, *, status: int | None = None) -> None:
        super().__init__(f"{channel}: {code}")
        self.channel = channel
        self.code = code
        self.status = status


class TemporaryDeliveryError(DeliveryError):
    """Try again later (timeouts, 5xx, 429, SMTP 4xx); `retry_after` in seconds when
    the provider said how long to wait."""

    def __init__(
        self,
        channel: str,
        code: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(channel, code, status=status)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Sending the same message again cannot succeed (bad address, rejected request,
    refused credentials): park it where staff can see it, and escalate."""


@runtime_checkable
class Recoverable(Protocol):
    """A channel whose provider can say whether a message was already sent (by its
    idempotency key), for a sender that died before recording the outcome."""

    async def find(self, message: Message) -> Receipt | None: ...


class Channel(Protocol):
    name: str

    async def send(self, message: Message) -> Receipt:
        """Raises TemporaryDeliveryError or PermanentDeliveryError."""
        ...
