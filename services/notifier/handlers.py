"""The notifier's handlers: who is told about an episode, and when that changes.

An assessment raises one alert per recipient that routing names; a re-assessment that
raises the level updates every alert of the episode (and alerts anyone the new level
brings in); a found or withdrawn episode closes them. Handlers only decide: sending is
the dispatcher's, from the deliveries these events queue. A new alert's first message
is claimed in the commit that raises it (``first_claim``), so the dispatcher in this
process sends it at once, without a claim of its own: one commit fewer on the way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast
from uuid import UUID

import structlog
from sqlalchemy import bindparam, select

from events.contracts.alerts import (
    AlertClosed,
    AlertContact,
    AlertFailureReported,
    AlertRaised,
    AlertSendAttempted,
    AlertUpdated,
)
from events.contracts.children import ChildRecorded
from events.contracts.missing import (
    ChildFound,
    MissingReported,
    ReportWithdrawn,
)
from events.contracts.triage import RiskAssessed, RiskReassessed
from events.envelope import Envelope, utcnow
from events.ids import derive_id
from events.store.sql import SqlEventStore
from events.streams import Category, stream_name
from events.subscriptions import Handler, Output, Subscriber
from services.notifier.calendar import OfficeHours
from services.notifier.messages import EpisodeFacts
from services.notifier.projector import delivery_id
from services.notifier.routing import (
    Case,
    Contact,
    Directory,
    Recipient,
    channels_for,
    escalate_at,
    recipients_for,
)
from services.notifier.tables import alerts
from services.records.children import child_record

log = structlog.get_logger()
NAME = "notifier"
EPISODE_ALERTS = select(
    alerts.c.alert_id, alerts.c.recipient_id, alerts.c.role, alerts.c.status
).where(alerts.c.episode_id == bindparam("episode_id"))


def alert_id_for(episode_id: UUID, recipient_id: str) -> UUID:
    return derive_id("alert", episode_id, recipient_id)


def alert_contact(contact: Contact) -> AlertContact:
    return AlertContact(
        recipient_id=contact.recipient_id,
        email=contact.email,
        phone=contact.phone,
        webhook_url=contact.webhook_url,
    )


def fold(events: Sequence[object]) -> EpisodeFacts | None:
    """The episode as far as the messages need it."""
    facts: EpisodeFacts | None = None
    for event in events:
        if isinstance(event, MissingReported):
            facts = EpisodeFacts(event, event.police_risk_grade)
        elif facts is None:
            continue
        elif isinstance(event, RiskAssessed):  # and RiskReassessed
            facts = EpisodeFacts(
                facts.report,
                event.level,
                tuple(event.factors),
                tuple(event.actions),
                facts.ended,
            )
        elif isinstance(event, ChildFound | ReportWithdrawn):
            ended = "found" if isinstance(event, ChildFound) else "withdrawn"
            facts = EpisodeFacts(
                facts.report, facts.level, facts.factors, facts.actions, ended
            )
    return facts


@dataclass(frozen=True)
class Notifier:
    """The notifier's dependencies, bound once by the composition root."""

    store: SqlEventStore
    directory: Callable[[], Awaitable[Directory]]
    configured_channels: Collection[str]
    escalate_after: timedelta = timedelta(minutes=15)
    lease: timedelta = timedelta(seconds=90)
    """How long a claimed message is its sender's: longer than any channel's timeout,
    so a lease that runs out means a dead sender, and the message is sent again."""
    hours: OfficeHours = field(default_factory=OfficeHours)
    now: Callable[[], datetime] = utcnow

    def __post_init__(self) -> None:
        self.hours.covers(self.now())  # loads the bank holidays now, not in an alert

    async def episode(self, episode_id: UUID) -> EpisodeFacts | None:
        envelopes = await self.store.read_stream(
            stream_name(Category.episode, episode_id)
        )
        return fold([e.event for e in envelopes])

    async def recipients(
        self, report: MissingReported, assessed: RiskAssessed, directory: Directory
    ) -> list[Recipient]:
        child: ChildRecorded | None = None
        if report.match.la_child_id:
            child = await child_record(self.store, report.match.la_child_id)
        case = Case(
            level=assessed.level,
            exploitation=any(f.exploitation for f in assessed.factors),
            child=child,
            at=assessed.assessed_at,
        )
        return recipients_for(case, directory, self.hours)

    async def alerts_of(self, episode_id: UUID) -> list[tuple[UUID, str, str, str]]:
        """(alert id, recipient id, role, status) of each alert of the episode."""
        rows = await self.store.select(EPISODE_ALERTS, {"episode_id": episode_id})
        return [tuple(row) for row in rows]

    def raised(
        self,
        episode_id: UUID,
        recipient: Recipient,
        assessed: RiskAssessed,
        duty_team: Contact | None,
    ) -> list[Output]:
        """The alert and the claim of its first message; or when no configured
        channel reaches the recipient, a warning and a notice to the duty team, so
        that a person tells them (an error when the duty team is out of reach too).
        ``/ready`` says the same, as ``degraded`` (readiness.py)."""
        alert_id = alert_id_for(episode_id, recipient.contact.recipient_id)
        at = assessed.assessed_at
        event = AlertRaised(
            alert_id=alert_id,
            episode_id=episode_id,
            role=recipient.role,
            scope=recipient.scope,
            level=assessed.level,
            contact=alert_contact(recipient.contact),
            channels=channels_for(recipient.contact, self.configured_channels),
            escalate_at=escalate_at(
                assessed.level, recipient.role, at, after=self.escalate_after
            ),
            raised_at=at,
        )
        outputs = [Output(stream_name(Category.alert, alert_id), event)]
        if event.channels:
            outputs.append(
                Output(
                    stream_name(Category.alert, alert_id), self.first_claim(event), 1
                )
            )
            return outputs
        log.warning(
            "recipient_unreachable", alert_id=str(alert_id), role=recipient.role
        )
        if duty_team and duty_team != recipient.contact:
            notice = AlertFailureReported(
                alert_id=alert_id,
                failed_delivery_id=delivery_id(alert_id, "alert", event.contact),
                contact=alert_contact(duty_team),
                channels=channels_for(duty_team, self.configured_channels),
                reported_at=at,
            )
            outputs.append(Output(stream_name(Category.alert, alert_id), notice))
            if notice.channels:
                return outputs
        log.error("duty_team_unreachable", alert_id=str(alert_id), role=recipient.role)
        return outputs

    def first_claim(self, raised: AlertRaised) -> AlertSendAttempted:
        """The first attempt at the alert's message, on its first channel."""
        now = self.now()
        return AlertSendAttempted(
            alert_id=raised.alert_id,
            delivery_id=delivery_id(raised.alert_id, "alert", raised.contact),
            kind="alert",
            channel=raised.channels[0],
            attempt=1,
            attempted_at=now,
            lease_until=now + self.lease,
        )


def subscriber(notifier: Notifier) -> Subscriber:
    async def raise_alerts(envelope: Envelope) -> list[Output]:
        assessed = cast(RiskAssessed, envelope.event)
        facts = await notifier.episode(assessed.episode_id)
        if facts is None or facts.ended:
            return []
        existing = {a[1] for a in await notifier.alerts_of(assessed.episode_id)}
        directory = await notifier.directory()
        recipients = await notifier.recipients(facts.report, assessed, directory)
        return [
            output
            for r in recipients
            if r.contact.recipient_id not in existing
            for output in notifier.raised(
                assessed.episode_id, r, assessed, directory.duty_team
            )
        ]

    async def update_alerts(envelope: Envelope) -> list[Output]:
        """A raised level tells everyone concerned again; any other change, nothing."""
        change = cast(RiskReassessed, envelope.event)
        if change.level.rank <= change.previous_level.rank:
            return []
        updates = [
            Output(
                stream_name(Category.alert, alert_id),
                AlertUpdated(
                    alert_id=alert_id,
                    level=change.level,
                    previous_level=change.previous_level,
                    escalate_at=escalate_at(
                        change.level,
                        role,
                        change.assessed_at,
                        after=notifier.escalate_after,
                    )
                    if status == "open"
                    else None,
                    updated_at=change.assessed_at,
                ),
            )
            for alert_id, _, role, status in await notifier.alerts_of(change.episode_id)
            if status != "closed"
        ]
        return updates + await raise_alerts(envelope)

    async def close_alerts(envelope: Envelope) -> list[Output]:
        episode_id = UUID(str(envelope.data["episode_id"]))
        reason = "found" if envelope.type == ChildFound.type_name else "withdrawn"
        return [
            Output(
                stream_name(Category.alert, alert_id),
                AlertClosed(alert_id=alert_id, reason=reason, closed_at=notifier.now()),
            )
            for alert_id, _, _, status in await notifier.alerts_of(episode_id)
            if status != "closed"
        ]

    handlers: dict[str, list[Handler]] = {
        RiskAssessed.type_name: [raise_alerts],
        RiskReassessed.type_name: [update_alerts],
        ChildFound.type_name: [close_alerts],
        ReportWithdrawn.type_name: [close_alerts],
    }
    return Subscriber(NAME, handlers)
