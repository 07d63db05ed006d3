"""What makes a report, an update or a found report acceptable: pure checks that
return (field, reason) pairs, so the API can name every problem at once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from services.intake.schemas import (
    ChildDetails,
    EpisodeCorrection,
    EpisodeUpdate,
    FoundReport,
    MissingReportCreate,
)

Problem = tuple[str, str]
CLOCK_SKEW = timedelta(minutes=5)
ADULT_AGE = 18


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _future(field: str, value: datetime, now: datetime) -> list[Problem]:
    if value > now + CLOCK_SKEW:
        return [(field, "is in the future (more than 5 minutes of clock skew)")]
    return []


def child_problems(
    child: ChildDetails, missing_since: datetime, now: datetime
) -> list[Problem]:
    if child.date_of_birth > now.date():
        return [("child.date_of_birth", "is in the future")]
    if age_on(child.date_of_birth, missing_since.date()) >= ADULT_AGE:
        return [("child.date_of_birth", "makes the person 18 or older: not a child")]
    return []


def report_problems(
    report: MissingReportCreate, now: datetime, la_codes: frozenset[str]
) -> list[Problem]:
    problems = _future("missing_since", report.missing_since, now)
    problems += _future("reported_at", report.reported_at, now)
    if report.reported_at < report.missing_since:
        problems.append(("reported_at", "is before missing_since"))
    problems += child_problems(report.child, report.missing_since, now)
    if report.placement.placing_authority not in la_codes:
        problems.append(
            ("placement.placing_authority", "is not a known local authority code")
        )
    return problems


def update_problems(
    update: EpisodeUpdate, missing_since: datetime, now: datetime
) -> list[Problem]:
    problems = _future("received_at", update.received_at, now)
    if not (update.police_risk_grade or update.sighting or update.information):
        problems.append(
            ("body", "names no change: give police_risk_grade, sighting or information")
        )
    if update.reason and not update.police_risk_grade:
        problems.append(("reason", "only goes with police_risk_grade"))
    if update.sighting:
        problems += _future("sighting.seen_at", update.sighting.seen_at, now)
        if update.sighting.seen_at < missing_since:
            problems.append(("sighting.seen_at", "is before missing_since"))
    return problems


def found_problems(
    found: FoundReport, missing_since: datetime, now: datetime
) -> list[Problem]:
    return _return_problems(found.found_at, missing_since, now)


def _return_problems(
    found_at: datetime, missing_since: datetime, now: datetime
) -> list[Problem]:
    problems = _future("found_at", found_at, now)
    if found_at < missing_since:
        problems.append(("found_at", "is before missing_since"))
    return problems


def correction_problems(
    correction: EpisodeCorrection, missing_since: datetime, now: datetime
) -> list[Problem]:
    if correction.episode_type is None and correction.found_at is None:
        return [("episode_type", "give episode_type or found_at (or both)")]
    if correction.found_at is None:
        return []
    return _return_problems(correction.found_at, missing_since, now)
