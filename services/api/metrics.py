"""The web layer's request metrics, and ``/metrics`` itself.

``RequestMetrics`` is plain ASGI middleware, cheap enough for intake's hot path: one
clock read at each end, and the labelled children cached per (route, method, status)
so a request costs two dictionary look-ups, not prometheus-client's locked ``labels``.
The route is the matched route's template (``/v1/episodes/{episode_id}``), never the
raw path, which would carry ids; a request no route matched is ``unmatched``."""

from __future__ import annotations

import time
from typing import Any

from fastapi import Response
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events.metrics import exposition

REQUESTS = Counter(
    "lantern_http_requests",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
DURATION = Histogram(
    "lantern_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method",
    ["route", "method"],
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


def route_of(scope: Scope) -> str:
    """The template of the route that answered: a mounted app's is its mount path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._counts: dict[tuple[str, str, int], Any] = {}
        self._durations: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before a start

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self._observe(scope, status, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_of(scope)
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        key = (route, method, status)
        if (count := self._counts.get(key)) is None:
            count = self._counts[key] = REQUESTS.labels(route, method, str(status))
        count.inc()
        if (duration := self._durations.get(key[:2])) is None:
            duration = self._durations[key[:2]] = DURATION.labels(route, method)
        duration.observe(seconds)


async def metrics() -> Response:
    """The Prometheus text format: no authentication (keep it off the public
    ingress, as the NetworkPolicy does); no personal data in any label."""
    body, content_type = exposition()
    return Response(body, media_type=content_type)
