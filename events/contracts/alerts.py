"""Events of the notifier: an alert to one recipient, its messages, and its end.

Each alert is the stream ``alert-{alert_id}``: one recipient told about one episode.
A message (the alert itself, an update, the closing note, an escalation, a failure
notice) is a *delivery*, named by ``delivery_id``: the same id on every attempt, and
the idempotency key the channel is given. Recording the attempt before sending and
the outcome after is what lets a restarted notifier tell a message it may have sent
from one it never tried.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from events.contracts.missing import RiskGrade
from events.registry import Event, Value

ChannelName = Literal["email", "sms", "webhook"]
DeliveryKind = Literal["alert", "update", "closed", "escalation", "failure"]


class AlertContact(Value):
    """Where a member of staff is reached (work addresses, never the child's)."""

    recipient_id: str
    email: str | None = None
    phone: str | None = None
    webhook_url: str | None = None


class AlertMatter(Value):
    """What an alert is about when it is not the episode's risk: a matter of the
    episode that falls to someone later. Absent on an alert of the episode itself.

    - ``interview_overdue``: the return interview's enforced deadline passed with
      it neither completed nor refused (``due_date``, ``deadline``);
    - ``strategy_discussion``: the child crossed the frequently-missing threshold
      with this episode (``episodes`` missing episodes in ``days`` days);
    - ``exploitation_concerns``: the return interview raised exploitation
      ``concerns`` (cse, cce, trafficking, gangs).
    """

    kind: Literal["interview_overdue", "strategy_discussion", "exploitation_concerns"]
    due_date: date | None = None
    deadline: str | None = None
    episodes: int | None = None
    days: int | None = None
    concerns: list[str] = Field(default_factory=list)


class AlertRaised(Event):
    """``matter``: what the alert is about when it is not the episode's risk (an
    overdue interview, a strategy discussion, exploitation concerns); None for the
    alert of the episode itself. Added without a new version: absent means None."""

    alert_id: UUID
    episode_id: UUID
    role: str
    scope: str
    level: RiskGrade
    contact: AlertContact
    channels: list[ChannelName]
    """In the order they are tried: the next one after a permanent failure."""
    escalate_at: datetime | None
    """When to go up the escalation chain if nobody has acknowledged; None: never."""
    raised_at: datetime
    matter: AlertMatter | None = None


class AlertUpdated(Event):
    """A re-assessment raised the level: the recipient is told again, at once.

    v2: ``occasion`` names the update message it goes into. News still waiting to be
    told (``AlertNewsAdded``) goes in the same message, sent now; v1 updates each had
    a message of their own, named by the level."""

    schema_version = 2

    alert_id: UUID
    level: RiskGrade
    previous_level: RiskGrade
    escalate_at: datetime | None
    updated_at: datetime
    occasion: str

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "occasion": data["level"]}


class AlertNewsAdded(Event):
    """News of the episode for the recipient (a sighting, a new police grade, new
    information, a reclassification): told in one update message with whatever else
    arrives before ``send_at``, the end of the window the first of it opened."""

    alert_id: UUID
    news: str
    """The type of the episode's event that brought it."""
    occasion: str
    """The update message it goes into: news within one window share one."""
    send_at: datetime
    added_at: datetime


class AlertClosed(Event):
    alert_id: UUID
    reason: Literal["found", "withdrawn"]
    closed_at: datetime


class AlertAcknowledged(Event):
    alert_id: UUID
    acknowledged_at: datetime
    via: Literal["api", "link", "web"]


class AlertEscalated(Event):
    """Nobody acknowledged in time: the next contact of the escalation chain."""

    alert_id: UUID
    step: int
    contact: AlertContact
    channels: list[ChannelName]
    next_escalation_at: datetime | None
    escalated_at: datetime


class AlertFailureReported(Event):
    """A message failed for good: the duty team is told, so a person follows it up."""

    alert_id: UUID
    failed_delivery_id: str
    contact: AlertContact
    channels: list[ChannelName]
    reported_at: datetime


class AlertSendAttempted(Event):
    """Recorded before the channel is called."""

    alert_id: UUID
    delivery_id: str
    kind: DeliveryKind
    channel: ChannelName
    attempt: int
    attempted_at: datetime
    lease_until: datetime
    """Until then the delivery is this sender's; after it, a dead one's: sent again."""


class AlertSent(Event):
    """The channel's provider accepted the message."""

    alert_id: UUID
    delivery_id: str
    kind: DeliveryKind
    channel: ChannelName
    attempt: int
    provider_id: str | None
    accepted_at: datetime


class AlertDeliveryFailed(Event):
    """``code`` is a reply code or provider error type, never the provider's text."""

    alert_id: UUID
    delivery_id: str
    kind: DeliveryKind
    channel: ChannelName
    attempt: int
    code: str
    status: int | None
    permanent: bool
    retry_at: datetime | None
    failed_at: datetime


class AlertDelivered(Event):
    """The provider reported the message delivered to the handset or inbox."""

    alert_id: UUID
    delivery_id: str
    channel: ChannelName
    provider_id: str | None
    delivered_at: datetime
