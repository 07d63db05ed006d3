"""How Lantern signs what it POSTs to others' systems, and how they check it. Pure.

Each POST carries `Lantern-Signature: t=<unix seconds>,v1=<hex>` where the hex is
HMAC-SHA256 over `f"{t}.".encode() + raw_body` with the shared secret. The alert
webhooks (services/notifier) and the webhook subscriptions (services/webhooks)
sign alike, so a receiver verifies both with `verify_signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Lantern-Signature"
KEY_ID_HEADER = "Lantern-Key-Id"
IDEMPOTENCY_HEADER = "Idempotency-Key"


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
