"""A server span for each HTTP request, named by its route's template, added only
when tracing is on (services/tracing.py): off, requests pay nothing for it.

No request's path, query, headers or body goes into the span: the route template,
the method and the status code only. Probes have none. An incoming ``traceparent``
is not followed: a report's trace starts where Lantern receives it, whatever the
caller traces."""

from __future__ import annotations

from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from opentelemetry.trace import ProxyTracerProvider, SpanKind, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events.tracing import tracer

NATIVE_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "operation_spans": False,
    "logs": False,
}
"""FastAPI's own spans are off: they hold the raw path and query (ids, a search's
words) and follow a caller's ``traceparent``; its logs quote invalid input."""
PROBES = frozenset({"/health", "/ready", "/metrics"})
"""Polled every few seconds by the platform: a trace each would bury the reports'."""


def tracing_on() -> bool:
    """Whether this process set up a tracer provider (the API's stand-in until)."""
    return not isinstance(trace.get_tracer_provider(), ProxyTracerProvider)


class ServerSpans:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with tracer.start_as_current_span(
            method,
            context=trace.set_span_in_context(trace.INVALID_SPAN),  # a new trace
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                await self.app(scope, receive, sending)
            finally:
                template = getattr(scope.get("route"), "path", None)
                if template:
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(StatusCode.ERROR)
