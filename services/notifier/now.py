"""The "Now" page's list: the open alerts the council's staff may see, riskiest then
newest first, each with the child (given name and family initial), why triage put
it at its level (its latest assessment's factors, read from the episode's stream as
the notifier reads it for its messages), how long it has been open, who was told by
which channel and whether it arrived, and whether the episode was escalated.

Roles and channels only: no contact details."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import case, func, select

from events.contracts.missing import MissingReported
from events.contracts.triage import RiskAssessed, RiskReassessed
from events.store.tables import events
from events.streams import Category, stream_name
from services.api.container import Container
from services.notifier.api import COUNCIL_STAFF, _alerts_seen_by
from services.notifier.tables import alerts, deliveries
from services.records.tables import episodes

SHOWN = 100
"""Alerts on the page at most (the riskiest and newest); the page says how many more."""
URGENCY = case({"high": 0, "medium": 1, "low": 2}, value=alerts.c.level, else_=3)
READ_TYPES = (
    MissingReported.type_name,
    RiskAssessed.type_name,
    RiskReassessed.type_name,
)
ROLES = {
    "social_worker": "Social worker",
    "team": "Child's team",
    "out_of_hours": "Out of hours",
    "duty_team": "Duty team",
    "team_manager": "Team manager",
    "mcet": "Police exploitation team",
    "home_authority": "Home local authority",
}
MATTERS = {
    "interview_overdue": "Return interview overdue",
    "strategy_discussion": "Strategy discussion due",
    "exploitation_concerns": "Exploitation concerns",
}
LEVEL_TAGS = {
    "high": "govuk-tag--red",
    "medium": "govuk-tag--orange",
    "low": "govuk-tag--grey",
}
STATUS_TAGS = {
    "delivered": ("Delivered", "govuk-tag--green"),
    "sent": ("Sent", "govuk-tag--blue"),
    "failed": ("Failed", "govuk-tag--red"),
    "pending": ("Waiting to send", "govuk-tag--grey"),
    "attempting": ("Sending", "govuk-tag--grey"),
    "cancelled": ("Not sent", "govuk-tag--grey"),
}
CHANNELS = {"email": "E-mail", "sms": "Text message", "webhook": "Webhook"}


@dataclass(frozen=True)
class Told:
    who: str
    channel: str
    status: str
    status_tag: str


@dataclass(frozen=True)
class Reason:
    factor: str
    source: str
    evidence: str


@dataclass(frozen=True)
class OpenAlert:
    alert_id: UUID
    episode_id: UUID
    child: str
    police_reference: str
    level: str
    level_tag: str
    role: str
    matter: str | None
    raised_at: datetime
    open_for: str
    escalated: int
    reasons: tuple[Reason, ...]
    assessed: bool
    told: tuple[Told, ...]


@dataclass(frozen=True)
class Board:
    alerts: tuple[OpenAlert, ...]
    total: int


def open_for(raised_at: datetime, now: datetime) -> str:
    """``open 2 h 14 min``, in whole minutes."""
    minutes = max(0, int((now - raised_at) / timedelta(minutes=1)))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"open {days} d {hours} h"
    if hours:
        return f"open {hours} h {minutes} min"
    if minutes:
        return f"open {minutes} min"
    return "open under 1 min"


def short_name(given_name: str, family_name: str) -> str:
    """Least data: the given name and the family name's initial."""
    initial = family_name.strip()[:1].upper()
    return f"{given_name.strip()} {initial}." if initial else given_name.strip()


def told(kind: str, occasion: str, role: str, channels: Sequence[str], index: int,
         status: str) -> Told:  # fmt: skip
    """One message: to whom (a role), by which channel, and how it went."""
    if kind == "escalation":
        who = f"Escalation step {occasion}"
    elif kind == "failure":
        who = "Duty team (a message failed)"
    else:
        who = ROLES.get(role, role.replace("_", " ").capitalize())
        who += " (update)" if kind == "update" else ""
        who += " (closed)" if kind == "closed" else ""
    channel = channels[min(index, len(channels) - 1)] if channels else ""
    label, tag = STATUS_TAGS.get(status, (status.capitalize(), "govuk-tag--grey"))
    return Told(who, CHANNELS.get(channel, channel or "no channel"), label, tag)


def reasons_of(event: RiskAssessed | None) -> tuple[Reason, ...]:
    if event is None:
        return ()
    return tuple(
        Reason(
            f.code.replace("_", " ").capitalize(),
            f.source.replace("_", " "),
            f.evidence,
        )
        for f in event.factors
    )


async def board(deps: Container, now: datetime) -> Board:
    """The open alerts staff may see, riskiest then most recently raised first."""
    columns = (
        alerts.c.alert_id, alerts.c.episode_id, alerts.c.role, alerts.c.level,
        alerts.c.raised_at, alerts.c.matter, alerts.c.escalation_step,
        episodes.c.police_reference,
    )  # fmt: skip
    open_ = _alerts_seen_by(COUNCIL_STAFF, *columns).where(alerts.c.status == "open")
    query = open_.order_by(URGENCY, alerts.c.raised_at.desc(), alerts.c.alert_id).limit(
        SHOWN
    )
    count = (
        _alerts_seen_by(COUNCIL_STAFF, func.count())
        .where(alerts.c.status == "open")
    )  # fmt: skip
    rows = await deps.store.select(query)
    total = int((await deps.store.select(count))[0][0])
    if not rows:
        return Board((), total)
    episode_ids = {r.episode_id for r in rows}
    alert_ids = [r.alert_id for r in rows]
    facts = await _episode_facts(deps, episode_ids)
    escalated = await _escalation_steps(deps, episode_ids)
    messages = await _messages(deps, alert_ids, {r.alert_id: r.role for r in rows})
    board_alerts = []
    for r in rows:
        report, assessment = facts.get(r.episode_id, (None, None))
        child = (
            short_name(report.child.given_name, report.child.family_name)
            if report
            else "Child not known yet"
        )
        board_alerts.append(
            OpenAlert(
                alert_id=r.alert_id,
                episode_id=r.episode_id,
                child=child,
                police_reference=r.police_reference,
                level=r.level,
                level_tag=LEVEL_TAGS.get(r.level, "govuk-tag--grey"),
                role=ROLES.get(r.role, r.role),
                matter=MATTERS.get(r.matter, r.matter) if r.matter else None,
                raised_at=r.raised_at,
                open_for=open_for(r.raised_at, now),
                escalated=escalated.get(r.episode_id, 0),
                reasons=reasons_of(assessment),
                assessed=assessment is not None,
                told=tuple(messages.get(r.alert_id, ())),
            )
        )
    return Board(tuple(board_alerts), total)


async def _episode_facts(
    deps: Container, episode_ids: Iterable[UUID]
) -> dict[UUID, tuple[MissingReported | None, RiskAssessed | None]]:
    """Each episode's report and latest assessment, in one read of the log."""
    streams = {stream_name(Category.episode, e): e for e in episode_ids}
    read = await deps.store.read_where(
        events.c.stream_id.in_(streams), events.c.type.in_(READ_TYPES)
    )  # through the store: the report's personal fields are sealed
    found: dict[UUID, tuple[MissingReported | None, RiskAssessed | None]] = {}
    for envelope in read:
        episode_id = streams[envelope.stream_id]
        report, assessment = found.get(episode_id, (None, None))
        event = envelope.event
        if isinstance(event, MissingReported):
            report = event
        elif isinstance(event, RiskAssessed):  # and RiskReassessed
            assessment = event
        found[episode_id] = (report, assessment)
    return found


async def _escalation_steps(
    deps: Container, episode_ids: Iterable[UUID]
) -> dict[UUID, int]:
    """The step each episode's escalation reached: it is recorded on one of its
    alerts (the carrier), and marks every alert of the episode."""
    query = (
        select(alerts.c.episode_id, func.max(alerts.c.escalation_step))
        .where(alerts.c.episode_id.in_(list(episode_ids)))
        .group_by(alerts.c.episode_id)
    )
    return {row[0]: int(row[1] or 0) for row in await deps.store.select(query)}


async def _messages(
    deps: Container, alert_ids: Sequence[UUID], roles: Mapping[UUID, str]
) -> dict[UUID, list[Told]]:
    query = (
        select(deliveries.c.alert_id, deliveries.c.kind, deliveries.c.occasion,
               deliveries.c.channels, deliveries.c.channel_index,
               deliveries.c.status, deliveries.c.due_at)
        .where(deliveries.c.alert_id.in_(alert_ids))
        .order_by(deliveries.c.due_at, deliveries.c.delivery_id)
    )  # fmt: skip
    by_alert: dict[UUID, list[Told]] = defaultdict(list)
    for r in await deps.store.select(query):
        by_alert[r.alert_id].append(
            told(
                r.kind,
                r.occasion,
                roles[r.alert_id],
                r.channels or [],
                r.channel_index,
                r.status,
            )
        )
    return by_alert
