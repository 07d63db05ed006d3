"""The notifier's handlers of what follows an episode, each alerting through the
usual path (an alert per recipient, delivered, acknowledged, failures reported):

- ``ReturnInterviewOverdue``: the child's social worker and team manager, and
  the home authority of a child placed by another council;
- ``FrequentlyMissingCrossed``: a strategy discussion prompt to the team manager and
  the police exploitation team;
- ``ReturnReasonsRecorded`` with exploitation concerns: the police exploitation team.

Each alert's id is derived from the episode, the recipient and the matter, so each
recipient is told of a matter of an episode once, whatever is redelivered or
recorded again. Events of a history import are the past, not news: never alerted.
These alerts do not escalate (a working-day matter: the team manager is told
already) and are not closed with the episode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast
from uuid import UUID

from sqlalchemy import bindparam, select

from events.contracts.alerts import AlertContact, AlertMatter, AlertRaised
from events.contracts.returns import ReturnInterviewOverdue, ReturnReasonsRecorded
from events.contracts.triage import FrequentlyMissingCrossed
from events.envelope import Envelope
from events.history import is_history
from events.ids import derive_id
from events.subscriptions import Handler, Output
from services.notifier.matters import matter_recipients
from services.notifier.routing import channels_for
from services.notifier.tables import alerts
from services.records.council import home_authority

if TYPE_CHECKING:
    from services.notifier.handlers import Notifier

RAISED_ALREADY = select(alerts.c.alert_id).where(
    alerts.c.alert_id.in_(bindparam("alert_ids", expanding=True))
)


def matter_alert_id(episode_id: UUID, recipient_id: str, kind: str) -> UUID:
    return derive_id("alert", episode_id, recipient_id, kind)


async def raise_matter(
    notifier: Notifier, episode_id: UUID, matter: AlertMatter
) -> list[Output]:
    read = await notifier.read(episode_id)
    if read is None:
        return []
    facts, child = read
    directory = await notifier.directory()
    home = home_authority(notifier.council, facts.report.placement, child)
    recipients = {
        matter_alert_id(episode_id, r.contact.recipient_id, matter.kind): r
        for r in matter_recipients(matter, child, directory, home)
    }
    if not recipients:
        return []
    rows = await notifier.store.select(RAISED_ALREADY, {"alert_ids": list(recipients)})
    raised = {row.alert_id for row in rows}
    outputs: list[Output] = []
    for alert_id, r in recipients.items():
        if alert_id in raised:
            continue
        event = AlertRaised(
            alert_id=alert_id,
            episode_id=episode_id,
            role=r.role,
            scope=r.scope,
            level=facts.level,
            contact=AlertContact(
                recipient_id=r.contact.recipient_id,
                email=r.contact.email,
                phone=r.contact.phone,
                webhook_url=r.contact.webhook_url,
            ),
            channels=channels_for(r.contact, notifier.configured_channels),
            escalate_at=None,
            raised_at=notifier.now(),
            matter=matter,
        )
        # at version 0: two handlings at once raise it once (the loser retries)
        outputs += notifier.raise_alert(event, r, directory.duty_team, 0)
    return outputs


def handlers(notifier: Notifier) -> dict[str, list[Handler]]:
    async def alert_interview_overdue(envelope: Envelope) -> Sequence[Output]:
        if is_history(envelope):
            return []
        overdue = cast(ReturnInterviewOverdue, envelope.event)
        matter = AlertMatter(
            kind="interview_overdue",
            due_date=overdue.due_date,
            deadline=overdue.deadline.value,
        )
        return await raise_matter(notifier, overdue.episode_id, matter)

    async def prompt_strategy_discussion(envelope: Envelope) -> Sequence[Output]:
        if is_history(envelope):
            return []
        crossed = cast(FrequentlyMissingCrossed, envelope.event)
        matter = AlertMatter(
            kind="strategy_discussion", episodes=crossed.episodes, days=crossed.days
        )
        return await raise_matter(notifier, crossed.episode_id, matter)

    async def alert_exploitation_concerns(envelope: Envelope) -> Sequence[Output]:
        reasons = cast(ReturnReasonsRecorded, envelope.event)
        if is_history(envelope) or not reasons.concerns:
            return []
        matter = AlertMatter(
            kind="exploitation_concerns",
            concerns=[c.value for c in reasons.concerns],
        )
        return await raise_matter(notifier, reasons.episode_id, matter)

    return {
        ReturnInterviewOverdue.type_name: [alert_interview_overdue],
        FrequentlyMissingCrossed.type_name: [prompt_strategy_discussion],
        ReturnReasonsRecorded.type_name: [alert_exploitation_concerns],
    }
