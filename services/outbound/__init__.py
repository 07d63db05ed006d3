"""The HTTP client of every call Lantern makes out (reference sources, GOV.UK Notify,
webhooks): httpx's interface over aiohttp's connection pool and C parser.

httpx's own pool polls every idle connection on each request and parses HTTP in
Python: at 50 reports/s the embedded notifier spent nearly half its time there
(bench/README.md, fourth round). Failures still surface as httpx's errors.
"""

from __future__ import annotations

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

KEEP_CONNECTIONS = httpx.Limits(max_connections=100, max_keepalive_connections=100)
"""Keep the connections a pool opens: closing one after almost every request under
load would make the next request pay for a new connection at both ends."""


def outbound_client() -> httpx.AsyncClient:
    """A client with its own pool; close it with ``aclose`` (or ``async with``)."""
    return httpx.AsyncClient(transport=_Transport(limits=KEEP_CONNECTIONS))


class _Transport(AiohttpTransport):
    """Each failure as the httpx error of its kind: the library makes any failure to
    connect (a refusal too) a ConnectTimeout, and passes some of aiohttp's through."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.TransportError as exc:
            kind = _kind(exc.__cause__)
            if kind is None:
                raise
            raise kind(str(exc), request=request) from exc.__cause__
        except aiohttp.ClientError as exc:  # e.g. a response that is not HTTP
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc


def _kind(cause: BaseException | None) -> type[httpx.TransportError] | None:
    if isinstance(cause, TimeoutError):
        return None  # the library's ConnectTimeout / ReadTimeout say it right
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError
    if isinstance(cause, aiohttp.ClientOSError):
        return httpx.ReadError
    return None
