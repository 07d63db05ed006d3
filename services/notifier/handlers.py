"""The notifier's event handlers; routing and channels come with the notifier issue."""

from events.subscriptions import Handler, Subscriber

HANDLERS: dict[str, list[Handler]] = {}


def subscriber() -> Subscriber:
    return Subscriber("notifier", HANDLERS)
