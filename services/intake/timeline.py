"""The episode's own stream in words, pure: what the police told us, triage's
assessments (recorded on the episode's stream), the return and the corrections.
Least data: grades, types and counts; not the circumstances, places or
descriptions the police gave (the page's summary holds what staff need)."""

from __future__ import annotations

from collections.abc import Iterable

from events.contracts.missing import (
    ChildFound,
    ChildSighted,
    EpisodeReclassified,
    InformationAdded,
    MissingReported,
    PoliceRiskGradeChanged,
    ReportWithdrawn,
    ReturnTimeCorrected,
)
from events.contracts.triage import (
    FrequentlyMissingCrossed,
    RiskAssessed,
    RiskReassessed,
)
from events.envelope import Envelope
from events.registry import Event
from services.api.timeline import TimelineEntry, words


def police(force: str) -> str:
    """``KENT`` → ``Kent Police``: the force's code, as staff say it."""
    return f"{force.replace('_', ' ').title()} Police"


def _factors(count: int) -> str:
    return f"{count} factor" + ("" if count == 1 else "s")


def described(event: Event) -> tuple[str, str]:
    """What happened, and a detail (may be empty)."""
    match event:
        case MissingReported():
            kind = "Reported missing" if event.episode_type == "missing" else (
                "Reported away from placement"
            )  # fmt: skip
            return (
                f"{kind} by {police(event.police_force)}",
                f"Police risk grade {event.police_risk_grade}",
            )
        case PoliceRiskGradeChanged():
            return (
                "Update from police",
                f"Risk grade {event.grade} (was {event.previous})",
            )
        case InformationAdded():
            return "Update from police", "New information"
        case ChildSighted():
            return "Sighting", ""
        case ChildFound():
            return "Returned", f"Returned to {words(event.returned_to)}"
        case ReportWithdrawn():
            return "Report withdrawn", words(event.reason).capitalize()
        case EpisodeReclassified():
            return (
                f"Reclassified: {event.episode_type}",
                f"Was {event.previous}; by the {event.role}",
            )
        case ReturnTimeCorrected():
            return "Correction: the return time", f"By the {event.role}"
        case RiskReassessed():
            return (
                f"Risk reassessed: {event.level} ({_factors(len(event.factors))})",
                f"Was {event.previous_level}",
            )
        case RiskAssessed():
            return (
                f"Risk assessed: {event.level} ({_factors(len(event.factors))})",
                f"Policy {event.policy_version}",
            )
        case FrequentlyMissingCrossed():
            return (
                "Frequently missing",
                f"{event.episodes} missing episodes in {event.days} days"
                f" (the threshold is {event.threshold})",
            )
    return words(event.type_name), ""


def episode_entries(envelopes: Iterable[Envelope]) -> list[TimelineEntry]:
    entries = []
    for envelope in envelopes:
        what, detail = described(envelope.event)
        entries.append(
            TimelineEntry(
                at=envelope.occurred_at,
                what=what,
                actor=envelope.actor,
                position=envelope.position,
                detail=detail,
            )
        )
    return entries
