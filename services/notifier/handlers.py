"""The notifier's handlers: who is told about an episode, and when that changes.

An assessment raises one alert per recipient that routing names; a re-assessment that
raises the level updates every alert of the episode at once (and alerts anyone the
new level brings in); news from the police or a reclassification is added to each
alert's next update, which goes when the window its first news opened closes; a found
or withdrawn episode closes them. Handlers only decide: sending is the dispatcher's,
from the deliveries these events queue. A new alert's first message is claimed in the
commit that raises it (``first_claim``), so the dispatcher in this process sends it at
once, without a claim of its own: one commit fewer on the way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import cast
from uuid import UUID

import structlog

from events.contracts.alerts import (
    AlertClosed,
    AlertContact,
    AlertFailureReported,
    AlertNewsAdded,
    AlertRaised,
    AlertSendAttempted,
    AlertUpdated,
)
from events.contracts.children import ChildRecorded
from events.contracts.missing import ChildFound, MissingReported, ReportWithdrawn
from events.contracts.triage import RiskAssessed, RiskReassessed
from events.envelope import Envelope, utcnow
from events.history import is_history
from events.ids import derive_id
from events.store.sql import SqlEventStore
from events.streams import Category, stream_name
from events.subscriptions import Handler, Output, Subscriber
from services.notifier import follow_ups
from services.notifier.calendar import OfficeHours
from services.notifier.episode import EPISODE_ALERTS, NEWS, EpisodeAlert, fold
from services.notifier.messages import EpisodeFacts, update_occasion
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
from services.records.children import child_record
from services.records.council import home_authority

log = structlog.get_logger()
NAME = "notifier"


def alert_id_for(episode_id: UUID, recipient_id: str) -> UUID:
    return derive_id("alert", episode_id, recipient_id)


def alert_contact(contact: Contact) -> AlertContact:
    return AlertContact(
        recipient_id=contact.recipient_id,
        email=contact.email,
        phone=contact.phone,
        webhook_url=contact.webhook_url,
    )


@dataclass(frozen=True)
class Notifier:
    """The notifier's dependencies, bound once by the composition root."""

    store: SqlEventStore
    directory: Callable[[], Awaitable[Directory]]
    configured_channels: Collection[str]
    council: str
    """This council's DfE LA code: a child placed by any other is an OLA child."""
    escalate_after: timedelta = timedelta(minutes=15)
    update_window: timedelta = timedelta(seconds=60)
    """News within this time of the first news of an update goes in that update."""
    lease: timedelta = timedelta(seconds=90)
    """How long a claimed message is its sender's: longer than any channel's timeout,
    so a lease that runs out means a dead sender, and the message is sent again."""
    hours: OfficeHours = field(default_factory=OfficeHours)
    now: Callable[[], datetime] = utcnow

    def __post_init__(self) -> None:
        self.hours.covers(self.now())  # loads the bank holidays now, not in an alert

    async def read(
        self, episode_id: UUID
    ) -> tuple[EpisodeFacts, ChildRecorded | None] | None:
        """The episode, and the child's record when intake matched one."""
        envelopes = await self.store.read_stream(
            stream_name(Category.episode, episode_id)
        )
        facts = fold(envelopes)
        if facts is None:
            return None
        la_child_id = facts.report.match.la_child_id
        child = await child_record(self.store, la_child_id) if la_child_id else None
        if child is not None:
            facts = replace(facts, home_child_id=child.placing_authority_child_id)
        return facts, child

    async def episode(self, episode_id: UUID) -> EpisodeFacts | None:
        read = await self.read(episode_id)
        return read[0] if read else None

    def recipients(
        self,
        report: MissingReported,
        child: ChildRecorded | None,
        assessed: RiskAssessed,
        directory: Directory,
        told: Sequence[EpisodeAlert],
    ) -> list[Recipient]:
        """Those routing names who have no alert of the episode yet."""
        case = Case(
            level=assessed.level,
            exploitation=any(f.exploitation for f in assessed.factors),
            child=child,
            at=assessed.assessed_at,
            home_authority=home_authority(self.council, report.placement, child),
        )
        contacts = [a.contact for a in told]
        return recipients_for(case, directory, self.hours, told=contacts)

    async def alerts_of(self, episode_id: UUID) -> list[EpisodeAlert]:
        rows = await self.store.select(EPISODE_ALERTS, {"episode_id": episode_id})
        return [EpisodeAlert.of(row) for row in rows]

    def raised(
        self,
        episode_id: UUID,
        recipient: Recipient,
        assessed: RiskAssessed,
        duty_team: Contact | None,
    ) -> list[Output]:
        """The alert of the episode's risk to one recipient (``raise_alert``)."""
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
        return self.raise_alert(event, recipient, duty_team)

    def raise_alert(
        self,
        event: AlertRaised,
        recipient: Recipient,
        duty_team: Contact | None,
        expected_version: int | None = None,
    ) -> list[Output]:
        """The alert and the claim of its first message; or when no configured
        channel reaches the recipient, a warning and a notice to the duty team, so
        that a person tells them (an error when the duty team is out of reach too).
        ``/ready`` says the same, as ``degraded`` (readiness.py)."""
        alert_id, at = event.alert_id, event.raised_at
        stream = stream_name(Category.alert, alert_id)
        outputs = [Output(stream, event, expected_version)]
        if event.channels:
            outputs.append(Output(stream, self.first_claim(event), 1))
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
            outputs.append(Output(stream, notice))
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
        if is_history(envelope):
            return []  # the past: recorded by its import, not news
        assessed = cast(RiskAssessed, envelope.event)
        read = await notifier.read(assessed.episode_id)
        if read is None or read[0].ended:
            return []
        facts, child = read
        existing = await notifier.alerts_of(assessed.episode_id)
        directory = await notifier.directory()
        recipients = notifier.recipients(
            facts.report, child, assessed, directory, existing
        )
        return [
            output
            for r in recipients
            for output in notifier.raised(
                assessed.episode_id, r, assessed, directory.duty_team
            )
        ]

    async def update_alerts(envelope: Envelope) -> list[Output]:
        """A raised level tells everyone concerned again, at once, with the news
        still waiting to be told; any other change, nothing."""
        if is_history(envelope):
            return []  # the past: recorded by its import, not news
        change = cast(RiskReassessed, envelope.event)
        if change.level.rank <= change.previous_level.rank:
            return []
        updates = [
            Output(
                stream_name(Category.alert, a.alert_id),
                AlertUpdated(
                    alert_id=a.alert_id,
                    level=change.level,
                    previous_level=change.previous_level,
                    escalate_at=escalate_at(
                        change.level,
                        a.role,
                        change.assessed_at,
                        after=notifier.escalate_after,
                    )
                    if a.status == "open"
                    else None,
                    updated_at=change.assessed_at,
                    occasion=update_occasion(a.waiting_update, envelope.stream_version),
                ),
            )
            for a in await notifier.alerts_of(change.episode_id)
            if a.status != "closed"
        ]
        return updates + await raise_alerts(envelope)

    async def add_news(envelope: Envelope) -> list[Output]:
        """News goes into each alert's update still waiting to be sent, or opens a
        new one, sent when the window closes; a repeat of earlier news, nothing."""
        if is_history(envelope):
            return []  # the past: recorded by its import, not news
        episode_id = UUID(str(envelope.data["episode_id"]))
        facts = await notifier.episode(episode_id)
        if facts is None or facts.ended:
            return []
        if all(n.version != envelope.stream_version for n in facts.news):
            return []  # a repeat
        send_at = notifier.now() + notifier.update_window
        return [
            Output(
                stream_name(Category.alert, a.alert_id),
                AlertNewsAdded(
                    alert_id=a.alert_id,
                    news=envelope.type,
                    occasion=update_occasion(a.waiting_update, envelope.stream_version),
                    send_at=send_at,
                    added_at=notifier.now(),
                ),
            )
            for a in await notifier.alerts_of(episode_id)
            if a.status != "closed"
        ]

    async def close_alerts(envelope: Envelope) -> list[Output]:
        if is_history(envelope):
            return []  # the past: recorded by its import, not news
        episode_id = UUID(str(envelope.data["episode_id"]))
        reason = "found" if envelope.type == ChildFound.type_name else "withdrawn"
        return [
            Output(
                stream_name(Category.alert, a.alert_id),
                AlertClosed(
                    alert_id=a.alert_id, reason=reason, closed_at=notifier.now()
                ),
            )
            for a in await notifier.alerts_of(episode_id)
            if a.status != "closed"
        ]

    handlers: dict[str, list[Handler]] = {
        RiskAssessed.type_name: [raise_alerts],
        RiskReassessed.type_name: [update_alerts],
        **{news.type_name: [add_news] for news in NEWS},
        ChildFound.type_name: [close_alerts],
        ReportWithdrawn.type_name: [close_alerts],
        **follow_ups.handlers(notifier),
    }
    return Subscriber(NAME, handlers)
