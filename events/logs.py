"""structlog set-up: JSON lines, correlation ids from context, no personal data.

Log calls pass ids and codes only. Outside dev, a last processor drops every key not
on the allow-list, so a careless ``log.info(..., name=child.name)`` cannot leak.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

ALLOWED_KEYS = frozenset(
    {
        "event", "level", "timestamp", "logger", "service", "subscriber", "transport",
        "event_id", "event_type", "stream_id", "position", "attempt", "error_type",
        "correlation_id", "causation_id", "client", "method", "path",
        "status", "duration_ms", "topic", "partitions", "count", "host", "port",
        "mode", "revision", "exc_info", "exception", "source", "breaker", "worker",
        "channel", "alert_id", "provider_id", "retryable", "role", "step",
    }
)  # fmt: skip


def _allow_listed(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event_dict.items() if k in ALLOWED_KEYS}


def configure_logging(*, level: str, fmt: str, environment: str) -> None:
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    if environment != "dev":
        processors.append(_allow_listed)
    processors.append(
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        cache_logger_on_first_use=True,
    )
