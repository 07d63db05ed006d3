"""Every event type Lantern records; importing this registers them all."""

from events.contracts import (
    alerts,
    children,
    missing,
    recipients,
    returns,
    subscriptions,
    triage,
)

__all__ = [
    "alerts",
    "children",
    "missing",
    "recipients",
    "returns",
    "subscriptions",
    "triage",
]
