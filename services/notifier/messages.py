"""What each recipient is told: the words of every message, by scope. Pure.

Least data to each (DESIGN.md), but enough to act on: the child's own council gets
the whole picture; so does the home authority of a child placed here by another
council, which keeps statutory responsibility for its child, manages the episode and
does the return interview (DOMAIN.md 1.6), with its own id for the child when known,
never this council's; the police exploitation team the identity, the level, the
exploitation reasons and the bare facts of news. An update tells the news of the
episode that arrived within its window, a repeat of earlier news left out. Subjects
never name the child: they show on lock screens and in mail listings. Times are
shown in Europe/London.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from events.calendar import LONDON
from events.contracts.alerts import DeliveryKind
from events.contracts.missing import (
    ChildSighted,
    EpisodeReclassified,
    EpisodeType,
    InformationAdded,
    MissingReported,
    PoliceRiskGradeChanged,
    RiskGrade,
)
from events.contracts.triage import Factor, RiskReassessed
from services.notifier.routing import Scope

NewsEvent = (
    ChildSighted
    | PoliceRiskGradeChanged
    | InformationAdded
    | EpisodeReclassified
    | RiskReassessed
)
SINCE = "since:"


@dataclass(frozen=True)
class News:
    """Something the episode learnt after the report: police updates, a
    reclassification, or a raised risk level."""

    version: int
    """Its place in the episode's stream: an update tells the news from one on."""
    event: NewsEvent


@dataclass(frozen=True)
class EpisodeFacts:
    """The episode as the notifier reads it from its stream."""

    report: MissingReported
    level: RiskGrade
    factors: tuple[Factor, ...] = ()
    actions: tuple[str, ...] = ()
    ended: str | None = None  # "found" or "withdrawn"
    episode_type: EpisodeType | None = None
    """As reclassified since the report; None: as reported."""
    news: tuple[News, ...] = ()
    home_child_id: str | None = None
    """The placing authority's own id for the child, from the children's records."""
    received_at: datetime | None = None
    """When Lantern received the police report: its alerts' latency runs from it."""


@dataclass(frozen=True)
class Words:
    subject: str
    body: str


def is_news(event: NewsEvent, told: Sequence[News]) -> bool:
    """A raised level, a new police grade or a reclassification is always news; a
    sighting or information the episode already had is a repeat."""
    if isinstance(event, RiskReassessed):
        return event.level.rank > event.previous_level.rank
    if isinstance(event, ChildSighted | InformationAdded):
        fact = event.model_dump(exclude={"received_at"})
        return not any(
            type(n.event) is type(event)
            and n.event.model_dump(exclude={"received_at"}) == fact
            for n in told
        )
    return True


def update_occasion(waiting: str | None, version: int) -> str:
    """The update message news goes into: the one still waiting to be sent, else a
    new one that tells the episode's news from this version on."""
    return waiting or f"{SINCE}{version}"


def news_since(occasion: str) -> int | None:
    """The first version an update tells; None for an update of the time before
    news was told (it said only that the level was raised)."""
    return int(occasion.removeprefix(SINCE)) if occasion.startswith(SINCE) else None


def shown(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%a %d %b %Y %H:%M")


def words(
    kind: DeliveryKind,
    scope: Scope,
    facts: EpisodeFacts,
    *,
    step: int = 0,
    failed_role: str | None = None,
    since: int | None = None,
) -> Words:
    """``since``: for an update, the first version of the news it tells."""
    news = _news_told(kind, facts, since)
    told = [f"- {_told(n.event, scope)}" for n in news]
    if kind == "alert" and told:
        told.insert(0, "Since the report:")
    lead = _lead(kind, scope, facts, step, failed_role, since)
    body = "\n".join([lead, *told, "", *_details(scope, facts)])
    return Words(subject=_subject(kind, facts, news, since), body=body)


def _subject(
    kind: DeliveryKind, facts: EpisodeFacts, news: list[News], since: int | None
) -> str:
    ref = f"{facts.report.police_force}/{facts.report.police_reference}"
    level = _upper(facts.level)
    if kind == "update":
        raised = since is None or any(isinstance(n.event, RiskReassessed) for n in news)
        if raised:
            return f"Lantern: risk raised to {level} ({ref})"
        return f"Lantern: update - {level} risk ({ref})"
    what = "away" if _type(facts) is EpisodeType.away else "missing"
    return {
        "alert": f"Lantern: child {what} from care - {level} risk ({ref})",
        "closed": f"Lantern: episode over - {facts.ended or 'closed'} ({ref})",
        "escalation": f"Lantern: NOT ACKNOWLEDGED - {level} risk ({ref})",
        "failure": f"Lantern: an alert could not be delivered ({ref})",
    }[kind]


def _lead(
    kind: DeliveryKind,
    scope: Scope,
    facts: EpisodeFacts,
    step: int,
    failed_role: str | None,
    since: int | None,
) -> str:
    level = _upper(facts.level)
    if kind == "update":
        if since is None:  # an update of before news was told: a raised level
            return f"The risk for this episode has been raised to {level}."
        return "New about this episode:"
    return {
        "alert": _reported(scope, _type(facts) is EpisodeType.away),
        "closed": _ended(facts),
        "escalation": (
            f"Escalation step {step}: nobody has acknowledged this {level} risk alert."
        ),
        "failure": (
            f"An alert to the {failed_role or 'recipient'} could not be delivered "
            "on any channel. Please make sure they are told."
        ),
    }[kind]


def _upper(level: RiskGrade) -> str:
    return level.value.replace("_", " ").upper()


def _type(facts: EpisodeFacts) -> EpisodeType:
    return facts.episode_type or facts.report.episode_type


def _news_told(
    kind: DeliveryKind, facts: EpisodeFacts, since: int | None
) -> list[News]:
    if kind == "alert":
        return list(facts.news)
    if kind == "update" and since is not None:
        return [n for n in facts.news if n.version >= since]
    return []


def _reported(scope: Scope, away: bool) -> str:
    what = (
        "away from placement without authorisation (whereabouts known)"
        if away
        else "missing from care"
    )
    if scope is Scope.home_authority:
        return (
            f"A child your authority placed with us is reported {what}. Your "
            "authority keeps responsibility for the child: it manages the episode "
            "and the return interview."
        )
    return f"A child is reported {what}."


def _ended(facts: EpisodeFacts) -> str:
    if facts.ended == "withdrawn":
        return "The police have withdrawn this report; no further action is needed."
    return "The child has been found or has returned. The episode is over."


def _told(event: NewsEvent, scope: Scope) -> str:
    """One piece of news; the police team gets the bare facts (theirs already)."""
    full = scope is not Scope.police
    if isinstance(event, ChildSighted):
        where = f" at {event.postcode}" if event.postcode else ""
        what = f": {event.description}" if full and event.description else ""
        return f"{shown(event.seen_at)} seen{where}{what}"
    if isinstance(event, PoliceRiskGradeChanged):
        why = f" ({event.reason})" if full and event.reason else ""
        grades = f"{_upper(event.previous)} -> {_upper(event.grade)}"
        return f"police risk grade {grades}{why}"
    if isinstance(event, InformationAdded):
        what = event.information if full else "new information from the police"
        return f"{shown(event.received_at)} {what}"
    if isinstance(event, EpisodeReclassified):
        why = f": {event.reason}" if full else ""
        return f"now recorded as {event.episode_type.value} by {event.role}{why}"
    return f"risk raised from {_upper(event.previous_level)} to {_upper(event.level)}"


def _details(scope: Scope, facts: EpisodeFacts) -> list[str]:
    report, child = facts.report, facts.report.child
    who = f"{child.given_name} {child.family_name}, born {child.date_of_birth:%d %b %Y}"
    since = "Away since" if _type(facts) is EpisodeType.away else "Missing since"
    lines = [
        f"Child: {who}",
        f"Risk: {facts.level.value.replace('_', ' ')}",
        f"{since}: {shown(report.missing_since)} ({_type(facts).value})",
        f"Police: {report.police_force} reference {report.police_reference}",
    ]
    reasons = [f for f in facts.factors if f.weight > 0]
    if scope is Scope.police:
        return [*lines, *_reasons([f for f in reasons if f.exploitation])]
    if report.reporting_officer:
        lines.append(f"Reporting officer: {report.reporting_officer}")
    if scope is Scope.home_authority:
        lines.append(f"Your child id: {facts.home_child_id or 'not known to us'}")
    last_seen = report.last_seen
    if last_seen and (last_seen.description or last_seen.postcode):
        where = ", ".join(p for p in (last_seen.description, last_seen.postcode) if p)
        lines.append(f"Last seen: {where}")
    if report.placement.postcode:
        lines.append(f"Placement: {report.placement.postcode}")
    if report.circumstances:
        lines.append(f"Circumstances: {report.circumstances}")
    lines += _reasons(reasons)
    if facts.actions:
        lines += ["Recommended:", *(f"- {a}" for a in facts.actions)]
    return lines


def _reasons(factors: list[Factor]) -> list[str]:
    if not factors:
        return []
    return ["Why:", *(f"- {f.evidence} ({f.source})" for f in factors)]
