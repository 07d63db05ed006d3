"""The notifier's event handlers. Routing and channels arrive with the notifier issue."""

from events.subscriptions import Handler, Subscriber

HANDLERS: dict[str, list[Handler]] = {}


def subscriber() -> Subscriber:
    return Subscriber("notifier", HANDLERS)
