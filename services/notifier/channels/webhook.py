"""Signed JSON webhooks to a recipient's own system (a case-management system, a
partner council's duty inbox).

Each POST carries `Lantern-Signature: t=<unix seconds>,v1=<hex>` where the hex is
HMAC-SHA256 over `f"{t}.".encode() + raw_body` with the shared secret, the key id
that names the secret (so secrets can be rotated), and `Idempotency-Key`, the same
for every resend of one message. `verify_signature` is the receiver's side.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from services.notifier.channels import (
    DeliveryError,
    Message,
    PermanentDeliveryError,
    Receipt,
    TemporaryDeliveryError,
)
from services.notifier.channels.http import post, retry_after
from services.notifier.channels.outcome import failed, sent

SIGNATURE_HEADER = "Lantern-Signature"
KEY_ID_HEADER = "Lantern-Key-Id"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class WebhookSettings(BaseModel):
    """The signing secret; no secret means webhooks are not configured."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    secret: SecretStr | None = Field(None, min_length=32)
    key_id: str = Field("k1", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    timeout_s: float = Field(5.0, gt=0, le=60, description="Whole request")

    @property
    def configured(self) -> bool:
        return self.secret is not None


def _digest(secret: str | bytes, timestamp: int, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, body: bytes, *, timestamp: int) -> str:
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str | bytes,
    header: str | None,
    body: bytes,
    tolerance_s: float = 300,
    *,
    now: float | None = None,
) -> bool:
    """True if `header` signs exactly `body` with `secret` within `tolerance_s` of
    `now`. Any `v1` may match, so a sender can sign with two secrets while one is
    being replaced. Verify the raw bytes received, before parsing the JSON."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, s) for s in signatures)


def webhook_error(status: int, header: str | None, *, now: datetime) -> DeliveryError:
    code = f"http_{status}"
    if status in (408, 429):
        wait = retry_after(header, now=now)
        return TemporaryDeliveryError("webhook", code, status=status, retry_after=wait)
    if status >= 500:
        return TemporaryDeliveryError("webhook", code, status=status)
    return PermanentDeliveryError("webhook", code, status=status)  # 3xx and 4xx


def _usable(url: str | None) -> bool:
    try:
        parsed = httpx.URL(url or "")
    except httpx.InvalidURL:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.host)


class WebhookChannel:
    name = "webhook"

    def __init__(
        self,
        settings: WebhookSettings,
        client: httpx.AsyncClient,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if settings.secret is None:
            raise ValueError("webhook: no secret, webhooks are not configured")
        self._secret = settings.secret
        self._key_id = settings.key_id
        self._timeout = settings.timeout_s
        self._client = client
        self._clock = clock

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
        url = message.webhook_url
        if url is None or not _usable(url):
            raise failed(PermanentDeliveryError(self.name, "invalid_url"), message)
        now = self._clock()
        content = self.body(message, now=now)
        secret = self._secret.get_secret_value()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, content, timestamp=int(now.timestamp())),
            KEY_ID_HEADER: self._key_id,
            IDEMPOTENCY_HEADER: message.idempotency_key,
        }
        try:
            response = await post(
                self._client, url, channel=self.name, content=content,
                headers=headers, timeout_s=self._timeout,
            )  # fmt: skip
        except DeliveryError as error:
            raise failed(error, message) from None
        if not response.is_success:
            refused = webhook_error(
                response.status_code, response.headers.get("Retry-After"), now=now
            )
            raise failed(refused, message)
        return sent(self.name, message, provider_id=None, at=now)
