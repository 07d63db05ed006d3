"""What the dispatcher may send, and its claim on it: the deliveries that the read
model says are due, and the first messages that the handlers claimed in the commit
raising their alerts.

A claim is an ``AlertSendAttempted`` appended at the alert stream's version before
the channel is called, so of two dispatchers only one sends an attempt; its lease
says how long the message is its sender's.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select

from events.contracts.alerts import (
    AlertContact,
    AlertRaised,
    AlertSendAttempted,
    ChannelName,
    DeliveryKind,
)
from events.envelope import Envelope
from services.notifier.handlers import Notifier
from services.notifier.routing import Scope
from services.notifier.tables import alerts, deliveries

DUE = (
    select(
        deliveries,
        alerts.c.version,
        alerts.c.role,
        alerts.c.scope,
        alerts.c.episode_id,
        alerts.c.matter,
    )
    .join(alerts, alerts.c.alert_id == deliveries.c.alert_id)
    .where(
        deliveries.c.status.in_(("pending", "attempting")),
        deliveries.c.due_at <= bindparam("now"),
    )
    .order_by(deliveries.c.due_at)
    .limit(bindparam("limit"))
)
"""Deliveries due, earliest first: read every round, so built once."""
RAISED = frozenset({AlertRaised.type_name, AlertSendAttempted.type_name})


@dataclass(frozen=True)
class Delivery:
    """One due message, as the read models have it."""

    delivery_id: str
    alert_id: Any
    episode_id: Any
    version: int
    kind: DeliveryKind
    occasion: str
    contact: AlertContact
    channel: ChannelName
    attempt: int
    role: str
    scope: Scope
    resumed: bool
    """The last attempt's sender died before recording how it went."""
    matter: str | None = None
    """What the alert is about when not the episode's risk (``AlertMatter.kind``)."""
    trace_context: str | None = None
    """The claim's trace (events/tracing.py), so the message's send carries it on."""
    last_channel: bool = False
    """No channel of the recipient's is left after this one: nobody else tells them."""


async def read_due(notifier: Notifier, limit: int) -> list[Delivery]:
    """Up to ``limit`` due deliveries, one per alert: a second claim on the same
    alert stream in one round would only lose."""
    rows = await notifier.store.select(DUE, {"now": notifier.now(), "limit": limit})
    seen: set[Any] = set()
    due = []
    for row in rows:
        if row.alert_id not in seen:
            seen.add(row.alert_id)
            due.append(_delivery(row))
    return due


def _delivery(row: Any) -> Delivery:
    full = row.kind in ("escalation", "failure")
    return Delivery(
        row.delivery_id,
        row.alert_id,
        row.episode_id,
        row.version,
        row.kind,
        row.occasion,
        AlertContact.model_validate(row.contact),
        row.channels[row.channel_index],
        row.attempt,
        row.role,
        Scope.full if full else Scope(row.scope),
        row.status == "attempting",
        row.matter,
        row.trace_context,
        row.channel_index == len(row.channels) - 1,
    )


def next_claim(d: Delivery, now: datetime, lease: timedelta) -> AlertSendAttempted:
    return AlertSendAttempted(
        alert_id=d.alert_id,
        delivery_id=d.delivery_id,
        kind=d.kind,
        channel=d.channel,
        attempt=d.attempt + 1,
        attempted_at=now,
        lease_until=now + lease,
    )


def claimed_as_raised(written: list[Envelope]) -> list[tuple[Delivery, datetime]]:
    """The first messages, and their leases, that the handler claimed in the commit
    raising their alerts: a claim right after an ``AlertRaised`` on its stream."""
    raised = {e.stream_id: e.event for e in written if e.stream_version == 1}
    claimed = []
    for e in written:
        alert, claim = raised.get(e.stream_id), e.event
        if (
            e.stream_version == 2  # the claim right after the alert
            and isinstance(alert, AlertRaised)
            and isinstance(claim, AlertSendAttempted)
        ):
            delivery = Delivery(
                claim.delivery_id, alert.alert_id, alert.episode_id, 2, claim.kind,
                "", alert.contact, claim.channel, claim.attempt, alert.role,
                Scope(alert.scope), resumed=False,
                matter=alert.matter.kind if alert.matter else None,
                trace_context=e.trace_context,
                last_channel=len(alert.channels) == 1,
            )  # fmt: skip
            claimed.append((delivery, claim.lease_until))
    return claimed


class RaisedClaims:
    """The messages this process's handlers claimed as they raised the alerts, as
    the store hands on their commits (``SqlEventStore.written``)."""

    def __init__(self, notifier: Notifier) -> None:
        self._now = notifier.now
        self._written = notifier.store.written(RAISED)
        self._claimed: deque[tuple[Delivery, datetime]] = deque()

    def take(self, room: int) -> list[Delivery]:
        """Up to ``room`` claimed messages whose lease has not run out (those the
        next round's read finds due, as a dead sender's)."""
        while not self._written.empty():
            self._claimed.extend(claimed_as_raised(self._written.get_nowait()))
        now = self._now()
        taken: list[Delivery] = []
        while self._claimed and len(taken) < room:
            delivery, lease_until = self._claimed.popleft()
            if lease_until > now:
                taken.append(delivery)
        return taken
