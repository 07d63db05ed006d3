"""Triage's event handlers. The risk policy arrives with the triage issue."""

from events.subscriptions import Handler, Subscriber

HANDLERS: dict[str, list[Handler]] = {}


def subscriber() -> Subscriber:
    return Subscriber("triage", HANDLERS)
