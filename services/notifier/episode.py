"""An episode as the notifier reads it: its facts and news from the episode's stream
(for the words of each message), and the alerts it has so far (whom they told, and
the update each still has waiting to be sent)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from sqlalchemy import and_, bindparam, select

from events.contracts.alerts import AlertContact
from events.contracts.missing import (
    ChildFound,
    ChildSighted,
    EpisodeReclassified,
    InformationAdded,
    MissingReported,
    PoliceRiskGradeChanged,
    ReportWithdrawn,
)
from events.contracts.triage import RiskAssessed, RiskReassessed
from events.envelope import Envelope
from services.notifier.messages import SINCE, EpisodeFacts, News, is_news
from services.notifier.routing import Contact
from services.notifier.tables import alerts, deliveries

NEWS = (ChildSighted, PoliceRiskGradeChanged, InformationAdded, EpisodeReclassified)
"""What the police or staff add to an episode that its recipients are told."""


def fold(envelopes: Sequence[Envelope]) -> EpisodeFacts | None:
    """The episode as far as the messages need it, with its news (repeats left
    out) where each stands in the stream."""
    facts: EpisodeFacts | None = None
    for envelope in envelopes:
        event = envelope.event
        if isinstance(event, MissingReported):
            facts = EpisodeFacts(
                event, event.police_risk_grade, received_at=envelope.recorded_at
            )
            continue
        if facts is None:
            continue
        if isinstance(event, RiskAssessed):  # and RiskReassessed
            facts = replace(
                facts,
                level=event.level,
                factors=tuple(event.factors),
                actions=tuple(event.actions),
            )
        elif isinstance(event, EpisodeReclassified):
            facts = replace(facts, episode_type=event.episode_type)
        elif isinstance(event, ChildFound | ReportWithdrawn):
            ended = "found" if isinstance(event, ChildFound) else "withdrawn"
            facts = replace(facts, ended=ended)
        if isinstance(event, (*NEWS, RiskReassessed)) and is_news(event, facts.news):
            news = News(envelope.stream_version, event)
            facts = replace(facts, news=(*facts.news, news))
    return facts


_first, _waiting = deliveries.alias("first"), deliveries.alias("waiting")
EPISODE_ALERTS = (
    select(
        alerts.c.alert_id,
        alerts.c.role,
        alerts.c.status,
        _first.c.contact,
        _waiting.c.occasion,
    )
    .join(
        _first, and_(_first.c.alert_id == alerts.c.alert_id, _first.c.kind == "alert")
    )
    .outerjoin(
        _waiting,
        and_(
            _waiting.c.alert_id == alerts.c.alert_id,
            _waiting.c.kind == "update",
            _waiting.c.status == "pending",
            _waiting.c.occasion.startswith(SINCE),
        ),
    )
    .where(alerts.c.episode_id == bindparam("episode_id"), alerts.c.matter.is_(None))
)
"""Each alert of an episode's risk, whom it told, and the update still waiting to
go. Alerts of a matter of the episode (an overdue interview, ...) are apart: they
get no news, are not closed with the episode, and told nobody of its risk."""


@dataclass(frozen=True)
class EpisodeAlert:
    alert_id: UUID
    role: str
    status: str
    contact: Contact
    waiting_update: str | None
    """The occasion of its update message still waiting to be sent, if any."""

    @classmethod
    def of(cls, row: Any) -> EpisodeAlert:
        """From a row of ``EPISODE_ALERTS``."""
        told = AlertContact.model_validate(row.contact)
        contact = Contact(
            told.recipient_id,
            email=told.email,
            phone=told.phone,
            webhook_url=told.webhook_url,
        )
        return cls(row.alert_id, row.role, row.status, contact, row.occasion)
