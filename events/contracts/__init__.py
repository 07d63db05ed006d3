"""Every event type Lantern records; importing this registers them all.

``CATEGORIES`` says which stream category, and so which Kafka topic, each module's
events are recorded on: the AsyncAPI document (events/asyncapi.py) is built from it.
"""

from events.contracts import (
    alerts,
    children,
    missing,
    recipients,
    returns,
    subscriptions,
    triage,
)
from events.streams import Category

CATEGORIES: dict[str, Category] = {
    missing.__name__: Category.episode,
    triage.__name__: Category.episode,  # on the episode's own stream, after the report
    alerts.__name__: Category.alert,
    children.__name__: Category.child,
    recipients.__name__: Category.recipient,
    returns.__name__: Category.interview,
    subscriptions.__name__: Category.subscription,
}

__all__ = [
    "CATEGORIES",
    "alerts",
    "children",
    "missing",
    "recipients",
    "returns",
    "subscriptions",
    "triage",
]
