"""What a webhook subscription may receive, and what it receives of it. Pure.

Least data: an integrator subscribes only to the types named here, and gets each
without the fields that no subscription carries. A partner council's subscription
(one with a ``placing_authority``) gets only the events of the children that
authority placed here. Nobody gets a return interview's notes
(``ReturnInterviewNotesRecorded`` is not subscribable), nor a member of staff's
contact details (an alert's ``contact``, a child's ``social_worker`` and ``team``,
the recipients directory), through a subscription.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Set
from datetime import datetime
from typing import Any
from uuid import UUID

NEVER = frozenset(
    {
        "ReturnInterviewNotesRecorded",  # staff notes of what the child said
        "RecipientRecorded",  # staff's contact details
        "RecipientRemoved",
        "WebhookSubscriptionPaused",  # its owner's alone: the subscription says it
    }
)
"""Types no subscription may receive."""

WITHHELD: Mapping[str, frozenset[str]] = {
    "AlertRaised": frozenset({"contact"}),
    "AlertEscalated": frozenset({"contact"}),
    "AlertFailureReported": frozenset({"contact"}),
    "ChildRecorded": frozenset({"social_worker", "team"}),
}
"""Fields taken out of a type's data before it is sent."""

CONTENT_TYPE = "application/cloudevents+json"
SPEC_VERSION = "1.0"
SOURCE = "urn:lantern:event-store"


def subscribable(registered: Iterable[str]) -> frozenset[str]:
    """The registered types a subscription may ask for."""
    return frozenset(registered) - NEVER


def unknown_types(wanted: Iterable[str], allowed: Set[str]) -> list[str]:
    """Those of ``wanted`` not allowed, in the order given, to name in a 422."""
    return [t for t in wanted if t not in allowed]


def least_data(type_name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    withheld = WITHHELD.get(type_name, frozenset())
    return {k: v for k, v in data.items() if k not in withheld}


def whose_child(stream_id: str) -> tuple[str, str] | None:
    """Where the placing authority of a stream's child is found: ``("episode", id)``
    for an episode's streams (its report says), ``("alert", id)`` (the alert's
    episode), ``("child", id)`` (the child's record); None for a stream about no
    child, which a partner council's subscription never gets."""
    category, _, key = stream_id.partition("-")
    if category in ("episode", "interview"):
        return "episode", key
    if category in ("alert", "child"):
        return category, key
    return None


def cloudevent(
    *,
    event_id: UUID,
    type_name: str,
    stream_id: str,
    position: int,
    schema_version: int,
    occurred_at: datetime,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """A structured-mode CloudEvent (JSON event format), as the Kafka records carry
    it in binary mode: the same id, type, source and subject."""
    return {
        "specversion": SPEC_VERSION,
        "id": str(event_id),
        "source": SOURCE,
        "type": type_name,
        "subject": stream_id,
        "time": occurred_at.isoformat(),
        "datacontenttype": "application/json",
        "dataschema": f"urn:lantern:schema:{type_name}:v{schema_version}",
        "position": position,
        "data": least_data(type_name, data),
    }


def backoff(attempt: int, first: float, ceiling: float) -> float:
    """Seconds before retry ``attempt`` (0 first): exponential, full jitter."""
    return random.uniform(0, min(ceiling, first * 2 ** min(attempt, 30)))  # noqa: S311
