"""What each recipient is told: the words of every message, by scope. Pure.

Least data to each (DESIGN.md): the child's own council gets the whole picture; the
police exploitation team the identity, the level and the exploitation reasons; the
home authority of a child placed here only who, since when and how urgent. Subjects
never name the child: they show on lock screens and in mail listings. Times are shown
in Europe/London.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from events.calendar import LONDON
from events.contracts.alerts import DeliveryKind
from events.contracts.missing import MissingReported, RiskGrade
from events.contracts.triage import Factor
from services.notifier.routing import Scope


@dataclass(frozen=True)
class EpisodeFacts:
    """The episode as the notifier reads it from its stream."""

    report: MissingReported
    level: RiskGrade
    factors: tuple[Factor, ...] = ()
    actions: tuple[str, ...] = ()
    ended: str | None = None  # "found" or "withdrawn"


@dataclass(frozen=True)
class Words:
    subject: str
    body: str


def shown(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%a %d %b %Y %H:%M")


def words(
    kind: DeliveryKind,
    scope: Scope,
    facts: EpisodeFacts,
    *,
    step: int = 0,
    failed_role: str | None = None,
) -> Words:
    report = facts.report
    ref = f"{report.police_force}/{report.police_reference}"
    level = facts.level.value.replace("_", " ").upper()
    subject = {
        "alert": f"Lantern: child missing from care - {level} risk ({ref})",
        "update": f"Lantern: risk raised to {level} ({ref})",
        "closed": f"Lantern: episode over - {facts.ended or 'closed'} ({ref})",
        "escalation": f"Lantern: NOT ACKNOWLEDGED - {level} risk ({ref})",
        "failure": f"Lantern: an alert could not be delivered ({ref})",
    }[kind]
    lead = {
        "alert": "A child is reported missing from care.",
        "update": f"The risk for this episode has been raised to {level}.",
        "closed": _ended(facts),
        "escalation": (
            f"Escalation step {step}: nobody has acknowledged this {level} risk alert."
        ),
        "failure": (
            f"An alert to the {failed_role or 'recipient'} could not be delivered "
            "on any channel. Please make sure they are told."
        ),
    }[kind]
    lines = [lead, "", *_details(scope, facts)]
    return Words(subject=subject, body="\n".join(lines))


def _ended(facts: EpisodeFacts) -> str:
    if facts.ended == "withdrawn":
        return "The police have withdrawn this report; no further action is needed."
    return "The child has been found or has returned. The episode is over."


def _details(scope: Scope, facts: EpisodeFacts) -> list[str]:
    report, child = facts.report, facts.report.child
    who = f"{child.given_name} {child.family_name}, born {child.date_of_birth:%d %b %Y}"
    lines = [
        f"Child: {who}",
        f"Risk: {facts.level.value.replace('_', ' ')}",
        f"Missing since: {shown(report.missing_since)} ({report.episode_type.value})",
        f"Police: {report.police_force} reference {report.police_reference}",
    ]
    if scope is Scope.home_authority:
        council_id = report.match.la_child_id or child.la_child_id
        return [*lines, f"Your child id: {council_id or 'not given'}"]
    reasons = [f for f in facts.factors if f.weight > 0]
    if scope is Scope.police:
        reasons = [f for f in reasons if f.exploitation]
        return [*lines, *_reasons(reasons)]
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
