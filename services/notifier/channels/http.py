"""What the two HTTP channels (GOV.UK Notify, webhooks) share: one POST with a hard
deadline whose transport failures become TemporaryDeliveryError, and the Retry-After
header read."""

from __future__ import annotations

import asyncio
import email.utils
from datetime import UTC, datetime

import httpx

from services.notifier.channels import TemporaryDeliveryError


async def post(
    client: httpx.AsyncClient,
    url: str,
    *,
    channel: str,
    content: bytes,
    headers: dict[str, str],
    timeout_s: float,
    sni_hostname: str | None = None,
) -> httpx.Response:
    """Never follows a redirect: a 3xx is an answer, and the body must not be sent
    on to wherever it points. ``sni_hostname``: the name TLS checks the certificate
    against when ``url`` names an address."""
    try:
        async with asyncio.timeout(timeout_s):
            return await client.post(
                url,
                content=content,
                headers=headers,
                timeout=timeout_s,
                follow_redirects=False,
                extensions={"sni_hostname": sni_hostname} if sni_hostname else None,
            )
    except (httpx.TimeoutException, TimeoutError):
        raise TemporaryDeliveryError(channel, "timeout") from None
    except (httpx.HTTPError, OSError) as exc:
        # The exception's text names the URL; its type says enough.
        raise TemporaryDeliveryError(channel, type(exc).__name__) from None


def retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
