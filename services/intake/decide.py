"""Pure decisions of intake: (command, the episode so far) -> events, or why not.

An episode's identity is derived from the force and its own reference, so a report
posted twice lands on the same stream and is recognised as a repeat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from events.contracts.missing import (
    ChildFound,
    ChildMatch,
    ChildSighted,
    EpisodeReclassified,
    EpisodeType,
    InformationAdded,
    MissingReported,
    PoliceRiskGradeChanged,
    ReportWithdrawn,
    ReturnTimeCorrected,
    RiskGrade,
    grade_of,
)
from events.ids import derive_id
from events.registry import Event
from services.intake.schemas import (
    EpisodeCorrection,
    EpisodeUpdate,
    FoundReport,
    MissingReportCreate,
    Reclassification,
    Withdrawal,
)


def episode_id_for(police_force: str, police_reference: str) -> UUID:
    return derive_id("episode", police_force, police_reference)


@dataclass(frozen=True)
class Episode:
    report: MissingReported
    status: str = "open"
    grade: RiskGrade = RiskGrade.no_apparent_risk
    closing: ChildFound | ReportWithdrawn | None = None
    episode_type: EpisodeType | None = None
    """As reclassified since the report; None: as reported."""
    found_at: datetime | None = None
    """When the child returned, as last corrected; None while not found."""

    @property
    def current_type(self) -> EpisodeType:
        return self.episode_type or self.report.episode_type


@dataclass(frozen=True)
class Repeat:
    """The command was already recorded: answer as before, append nothing."""


@dataclass(frozen=True)
class Conflict:
    reason: str
    fields: Sequence[str] = ()


Decision = list[Event] | Repeat | Conflict


def fold(events: Sequence[Event]) -> Episode | None:
    episode: Episode | None = None
    for event in events:
        if isinstance(event, MissingReported):
            episode = Episode(event, grade=event.police_risk_grade)
        elif episode is None:
            continue
        elif isinstance(event, PoliceRiskGradeChanged):
            episode = replace(episode, grade=event.grade)
        elif isinstance(event, EpisodeReclassified):
            episode = replace(episode, episode_type=event.episode_type)
        elif isinstance(event, ChildFound):
            episode = replace(
                episode, status="found", closing=event, found_at=event.found_at
            )
        elif isinstance(event, ReturnTimeCorrected):
            episode = replace(episode, found_at=event.found_at)
        elif isinstance(event, ReportWithdrawn):
            episode = replace(episode, status="withdrawn", closing=event)
    return episode


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def report_missing(
    command: MissingReportCreate, *, match: ChildMatch, existing: Episode | None
) -> Decision:
    if existing is not None:
        differing = differing_fields(submitted(existing.report), command.model_dump())
        if differing:
            return Conflict("this police_reference was reported with other details; "
                            "send changes as updates", differing)  # fmt: skip
        return Repeat()
    grade = grade_of(command.police_risk_grade)
    return [
        MissingReported(
            **command.model_dump(
                exclude={"police_risk_grade", "reported_at", "missing_since"}
            ),
            episode_id=episode_id_for(command.police_force, command.police_reference),
            reported_at=_utc(command.reported_at),
            missing_since=_utc(command.missing_since),
            police_risk_grade=grade,
            police_risk_grade_reported_as=(
                command.police_risk_grade
                if command.police_risk_grade != grade
                else None
            ),
            match=match,
        )
    ]


def submitted(report: MissingReported) -> dict[str, Any]:
    """The report as the police sent it, to compare a repost with."""
    body = report.model_dump(
        exclude={"episode_id", "match", "police_risk_grade_reported_as"}
    )
    body["police_risk_grade"] = (
        report.police_risk_grade_reported_as or report.police_risk_grade
    )
    return body


def differing_fields(
    old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = ""
) -> list[str]:
    fields = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            fields += differing_fields(before, after, f"{prefix}{key}.")
        elif before != after:
            fields.append(f"{prefix}{key}")
    return fields


def update_episode(command: EpisodeUpdate, episode: Episode) -> Decision:
    if episode.status != "open":
        return Conflict(
            f"the episode is closed ({episode.status}); it takes no updates"
        )
    episode_id = episode.report.episode_id
    events: list[Event] = []
    if (
        command.police_risk_grade
        and grade_of(command.police_risk_grade) != episode.grade
    ):
        grade = grade_of(command.police_risk_grade)
        events.append(
            PoliceRiskGradeChanged(
                episode_id=episode_id,
                previous=episode.grade,
                grade=grade,
                reported_as=command.police_risk_grade
                if command.police_risk_grade != grade
                else None,
                changed_at=_utc(command.received_at),
                reason=command.reason,
            )
        )
    if command.sighting:
        events.append(
            ChildSighted(
                episode_id=episode_id,
                seen_at=_utc(command.sighting.seen_at),
                postcode=command.sighting.postcode,
                description=command.sighting.description,
            )
        )
    if command.information:
        events.append(
            InformationAdded(
                episode_id=episode_id,
                received_at=_utc(command.received_at),
                information=command.information,
            )
        )
    return events


Acting = Literal["police", "staff"]
"""The role an episode's correction is recorded with."""


def reclassify(
    command: Reclassification, episode: Episode, *, by: str, role: Acting, now: datetime
) -> Decision:
    """Whereabouts known after all (away, SSDA903 A), or not (missing, M): who says
    so and why is recorded. The type it already has is a repeat."""
    if episode.status != "open":
        return Conflict(f"the episode is closed ({episode.status})")
    return _reclassified(command, episode, by=by, role=role, now=now) or Repeat()


def _reclassified(
    command: Reclassification, episode: Episode, *, by: str, role: Acting, now: datetime
) -> list[Event]:
    """The one path to ``EpisodeReclassified``, open episode or closed: none when
    the episode already has the type."""
    if command.episode_type is episode.current_type:
        return []
    return [
        EpisodeReclassified(
            episode_id=episode.report.episode_id,
            previous=episode.current_type,
            episode_type=command.episode_type,
            reason=command.reason,
            by=by,
            role=role,
            reclassified_at=_utc(now),
        )
    ]


def correct(
    command: EpisodeCorrection, episode: Episode, *, by: str, now: datetime
) -> Decision:
    """Staff correct an episode after the fact, closed or not: each field that
    differs is its own event; the same values again are a repeat. Checked first:
    ``correction_problems`` (422s)."""
    events: list[Event] = []
    if command.episode_type is not None:
        reclassification = Reclassification(
            episode_type=command.episode_type, reason=command.reason
        )
        events += _reclassified(reclassification, episode, by=by, role="staff", now=now)
    found_at = _utc(command.found_at) if command.found_at else None
    if found_at is not None and found_at != episode.found_at:
        if episode.found_at is None:
            return Conflict(
                f"the episode has no return to correct ({episode.status})",
                ["found_at"],
            )
        events.append(
            ReturnTimeCorrected(
                episode_id=episode.report.episode_id,
                previous=episode.found_at,
                found_at=found_at,
                reason=command.reason,
                by=by,
                role="staff",
                corrected_at=_utc(now),
            )
        )
    return events or Repeat()


def record_found(command: FoundReport, episode: Episode) -> Decision:
    found = ChildFound(
        episode_id=episode.report.episode_id,
        found_at=_utc(command.found_at),
        found_location=command.found_location,
        returned_to=command.returned_to,
        safe_and_well_check=command.safe_and_well_check,
    )
    return _close(found, episode)


def withdraw(command: Withdrawal, episode: Episode, now: datetime) -> Decision:
    withdrawn = ReportWithdrawn(
        episode_id=episode.report.episode_id,
        withdrawn_at=_utc(now),
        reason=command.reason,
        note=command.note,
    )
    return _close(withdrawn, episode)


def _close(event: ChildFound | ReportWithdrawn, episode: Episode) -> Decision:
    if episode.status == "open":
        return [event]
    if type(event) is type(episode.closing) and _same_closing(event, episode.closing):
        return Repeat()
    return Conflict(f"the episode is already closed ({episode.status})")


def _same_closing(event: Event, closing: Event | None) -> bool:
    ignore = {"withdrawn_at"}  # a repeated withdrawal is the same one, whenever sent
    return closing is not None and event.model_dump(
        exclude=ignore
    ) == closing.model_dump(exclude=ignore)
