"""An alert's stream in words, pure, for the episode page's timeline: whom it told
(the role) by which channels, each message and what became of it, the
acknowledgement, the escalations. Least data: roles and channels, never the
recipient's address, which stays in the alert's own events."""

from __future__ import annotations

from collections.abc import Iterable

from events.contracts.alerts import (
    AlertAcknowledged,
    AlertClosed,
    AlertDelivered,
    AlertDeliveryFailed,
    AlertEscalated,
    AlertFailureReported,
    AlertMatter,
    AlertNewsAdded,
    AlertRaised,
    AlertSendAttempted,
    AlertSent,
    AlertUpdated,
)
from events.envelope import Envelope
from events.registry import Event
from services.api.timeline import (
    CHANNELS,
    TimelineEntry,
    channel_words,
    role_words,
    words,
)

MESSAGES = {
    "alert": "Alert",
    "update": "Update",
    "closed": "Closing note",
    "escalation": "Escalation",
    "failure": "Failure notice",
}
MATTERS = {
    "interview_overdue": "Return interview overdue",
    "strategy_discussion": "Strategy discussion prompt",
    "exploitation_concerns": "Exploitation concerns",
}


def _matter(matter: AlertMatter | None) -> str:
    return "Alert" if matter is None else MATTERS.get(matter.kind, words(matter.kind))


def described(event: Event, role: str) -> tuple[str, str] | None:
    """What happened, and a detail; None for bookkeeping the page leaves out (the
    attempt recorded before each send: its outcome is shown)."""
    to = f"the {role_words(role)}"
    match event:
        case AlertRaised():
            return (
                f"{_matter(event.matter)} raised for {to}",
                f"Level {event.level}; by {channel_words(event.channels)}",
            )
        case AlertSent():
            message = MESSAGES.get(event.kind, words(event.kind))
            return (
                f"{message} sent to {to} by {CHANNELS.get(event.channel)}",
                f"Attempt {event.attempt}" if event.attempt > 1 else "",
            )
        case AlertDelivered():
            return "Delivered", f"To {to} by {CHANNELS.get(event.channel)}"
        case AlertDeliveryFailed():
            then = "gave up on this channel" if event.permanent else "will try again"
            return (
                "Delivery failed",
                f"To {to} by {CHANNELS.get(event.channel)} ({event.code}); {then}",
            )
        case AlertAcknowledged():
            via = "in Lantern" if event.via == "api" else "by the link in the message"
            return f"Acknowledged: the alert to {to}", f"Acknowledged {via}"
        case AlertEscalated():
            return (
                f"Escalated (step {event.step})",
                f"Nobody acknowledged the alert to {to} in time; "
                f"by {channel_words(event.channels)}",
            )
        case AlertUpdated():
            return (
                f"Alert to {to} updated: risk {event.level}",
                f"Was {event.previous_level}",
            )
        case AlertNewsAdded():
            return f"News for {to}", f"{words(event.news)}; sent with the next update"
        case AlertFailureReported():
            return "Duty team told of a failed message", f"The message to {to}"
        case AlertClosed():
            why = "the child was found" if event.reason == "found" else "withdrawn"
            return f"Alert to {to} closed", f"The episode is over: {why}"
        case AlertSendAttempted():
            return None
    return words(event.type_name), ""


def alert_entries(envelopes: Iterable[Envelope], role: str) -> list[TimelineEntry]:
    entries = []
    for envelope in envelopes:
        said = described(envelope.event, role)
        if said is not None:
            entries.append(
                TimelineEntry(
                    at=envelope.occurred_at,
                    what=said[0],
                    actor=envelope.actor,
                    position=envelope.position,
                    detail=said[1],
                )
            )
    return entries
