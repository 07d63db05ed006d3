"""Stream names: ``<category>-<key>``. The category is the Kafka topic a stream's
events go to (events/cloudevents.py), so these names are part of the contract."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    episode = "episode"  # key: the episode id, derived from force and police reference
    alert = "alert"  # key: the alert id, derived from episode and recipient
    child = "child"  # key: the council's child id
    recipient = "recipient"  # key: the recipient id
    interview = "interview"  # key: the episode id whose return it follows
    subscription = "subscription"  # key: the webhook subscription id


def stream_name(category: Category, key: object) -> str:
    return f"{category}-{key}"


def category_of(stream_id: str) -> str:
    return stream_id.split("-", 1)[0]
