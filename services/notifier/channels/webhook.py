"""Signed JSON webhooks to a recipient's own system (a case-management system, a
partner council's duty inbox).

Each POST carries `Lantern-Signature: t=<unix seconds>,v1=<hex>` where the hex is
HMAC-SHA256 over `f"{t}.".encode() + raw_body` with the shared secret, the key id
that names the secret (so secrets can be rotated), and `Idempotency-Key`, the same
for every resend of one message. `verify_signature` is the receiver's side
(services/outbound/signing.py, shared with the webhook subscriptions).

A URL is posted to only if destinations.py allows it, checked again here because an
entry recorded before the rule, or a name whose addresses have changed since, must
not reach a private host: the host is resolved, every address checked, and the
connection made to the address checked (the name kept for `Host` and TLS), so a
second lookup cannot answer differently.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from services.notifier.channels import (
    DeliveryError,
    Message,
    PermanentDeliveryError,
    Receipt,
    TemporaryDeliveryError,
)
from services.notifier.channels.http import post, retry_after
from services.notifier.channels.outcome import failed, sent
from services.outbound.destinations import Address, address_allowed, url_problem
from services.outbound.signing import (
    IDEMPOTENCY_HEADER,
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    sign,
    verify_signature,
)

__all__ = ["IDEMPOTENCY_HEADER", "KEY_ID_HEADER", "SIGNATURE_HEADER", "sign",
           "verify_signature"]  # fmt: skip


class WebhookSettings(BaseModel):
    """The signing secret; no secret means webhooks are not configured."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    secret: SecretStr | None = Field(None, min_length=32)
    key_id: str = Field("k1", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    timeout_s: float = Field(
        5.0, gt=0, le=60, description="The name lookup, then the whole request"
    )
    allowed_hosts: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(),
        description="Comma-separated hosts a webhook may reach whatever their"
        " addresses, over http too (tests, the demo's loopback receiver)",
    )

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return {h.strip().lower() for h in value.split(",") if h.strip()}
        return value

    @property
    def configured(self) -> bool:
        return self.secret is not None


def webhook_error(status: int, header: str | None, *, now: datetime) -> DeliveryError:
    code = f"http_{status}"
    if status in (408, 429):
        wait = retry_after(header, now=now)
        return TemporaryDeliveryError("webhook", code, status=status, retry_after=wait)
    if status >= 500:
        return TemporaryDeliveryError("webhook", code, status=status)
    return PermanentDeliveryError("webhook", code, status=status)  # 3xx and 4xx


Resolve = Callable[[str, int], Awaitable[list[Address]]]


async def system_resolve(host: str, port: int) -> list[Address]:
    """Every address the system's resolver gives, in its order of preference."""
    found = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM
    )
    return [ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in found]


class WebhookChannel:
    name = "webhook"

    def __init__(
        self,
        settings: WebhookSettings,
        client: httpx.AsyncClient,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        resolve: Resolve = system_resolve,
    ) -> None:
        if settings.secret is None:
            raise ValueError("webhook: no secret, webhooks are not configured")
        self._secret = settings.secret
        self._key_id = settings.key_id
        self._timeout = settings.timeout_s
        self._allowed = settings.allowed_hosts
        self._client = client
        self._clock = clock
        self._resolve = resolve

    def body(self, message: Message, *, now: datetime) -> bytes:
        document = {
            "alert_id": str(message.alert_id),
            "kind": message.kind,
            "subject": message.subject,
            "body": message.body,
            "ack_url": message.ack_url,
            "sent_at": now.isoformat(),
        }
        return json.dumps(document, separators=(",", ":")).encode()

    async def send(self, message: Message) -> Receipt:
        target = self._target(message.webhook_url or "")
        if target is None:
            raise failed(PermanentDeliveryError(self.name, "invalid_url"), message)
        now = self._clock()
        content = self.body(message, now=now)
        secret = self._secret.get_secret_value()
        headers = {
            "Content-Type": "application/json",
            "Host": target.netloc.decode("ascii"),
            SIGNATURE_HEADER: sign(secret, content, timestamp=int(now.timestamp())),
            KEY_ID_HEADER: self._key_id,
            IDEMPOTENCY_HEADER: message.idempotency_key,
        }
        try:
            response = await self._post(target, content, headers)
        except DeliveryError as error:
            raise failed(error, message) from None
        if not response.is_success:
            refused = webhook_error(
                response.status_code, response.headers.get("Retry-After"), now=now
            )
            raise failed(refused, message)
        return sent(self.name, message, provider_id=None, at=now)

    def _target(self, url: str) -> httpx.URL | None:
        if url_problem(url, self._allowed) is not None:
            return None
        try:
            return httpx.URL(url)
        except httpx.InvalidURL:
            return None

    async def _post(
        self, target: httpx.URL, content: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        """To the addresses checked, in the resolver's order: the next one only if
        the connection is refused, as a client given the name would do."""
        addresses = await self._addresses(target)
        for address in addresses[:-1]:
            try:
                return await self._post_to(address, target, content, headers)
            except TemporaryDeliveryError as error:
                if error.code != "ConnectError":
                    raise
        return await self._post_to(addresses[-1], target, content, headers)

    async def _post_to(
        self,
        address: Address,
        target: httpx.URL,
        content: bytes,
        headers: dict[str, str],
    ) -> httpx.Response:
        """The connection to ``address``; the name stays in `Host` and is what TLS
        checks the certificate against."""
        return await post(
            self._client, str(target.copy_with(host=str(address))),
            channel=self.name, content=content, headers=headers,
            timeout_s=self._timeout, sni_hostname=target.host,
        )  # fmt: skip

    async def _addresses(self, target: httpx.URL) -> list[Address]:
        """Where the host is, once every address it resolves to is allowed (any
        host on the allow-list is)."""
        port = target.port or (443 if target.scheme == "https" else 80)
        try:
            async with asyncio.timeout(self._timeout):
                addresses = await self._resolve(target.host, port)
        except TimeoutError:
            raise TemporaryDeliveryError(self.name, "timeout") from None
        except OSError:  # the name does not resolve, for now
            raise TemporaryDeliveryError(self.name, "name_not_resolved") from None
        if not addresses:
            raise TemporaryDeliveryError(self.name, "name_not_resolved")
        if target.host not in self._allowed and not all(
            address_allowed(a) for a in addresses
        ):
            raise PermanentDeliveryError(self.name, "address_not_allowed")
        return addresses
