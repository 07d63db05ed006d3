"""The statutory returns' rows, from the reports' plain data: the SSDA903 Missing
table of a collection year (DOMAIN.md §3.2-3.4, rules 6-11) and Ofsted Annex A
List 8's missing columns as of a day (DOMAIN.md §3.5, rule 3). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from services.reports.model import CarePeriod
from services.reports.periods import add_months, london_day

MISSING_COLUMNS = ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END")
LIST8_COLUMNS = (
    "ChildUniqueID",
    "EpisodesChildMissingFromPlacement",
    "EpisodesChildAbsentFromPlacement",
    "ChildOfferedReturnInterviewAfterLastMFH",
    "ChildAcceptedReturnInterviewAfterLastMFH",
)
YES, NO, UNKNOWN = "a) Yes", "b) No", "c) Unknown"


@dataclass(frozen=True)
class ReturnChild:
    """One of the council's own children, as the returns need it."""

    child_id: str
    date_of_birth: date
    care_periods: tuple[CarePeriod, ...]

    def in_care(self, day: date) -> bool:
        return any(p.holds(day) for p in self.care_periods)


@dataclass(frozen=True)
class ReturnEpisode:
    """An episode (not withdrawn as reported in error) and its return interview."""

    child_id: str
    missing: bool  # SSDA903 M; False: A, away
    started_at: datetime
    ended_at: datetime | None = None
    rhi_offered: bool = False
    rhi_accepted: bool | None = None  # None: no answer recorded

    @cached_property
    def start_day(self) -> date:
        return london_day(self.started_at)


def collection_year(year: int) -> tuple[date, date]:
    """The SSDA903 year ``year`` (its end year: 2026 is 2025/26), both days in."""
    return date(year - 1, 4, 1), date(year, 3, 31)


def missing_table(
    children: Sequence[ReturnChild], episodes: Sequence[ReturnEpisode], *, year: int
) -> list[tuple[str, ...]]:
    """Every episode of a child looked after in the year that overlaps it, started
    in care (rules 578, 581), by child then start. An end after the year is not
    yet known to the return: the episode is open at 31 March (rule 571)."""
    first, last = collection_year(year)
    by_id = {
        c.child_id: c
        for c in children
        if any(p.start <= last and (p.end is None or p.end >= first)
               for p in c.care_periods)
    }  # fmt: skip
    born = {i: _dmy(c.date_of_birth) for i, c in by_id.items()}
    rows: list[tuple[str, str, str, date, date | None]] = []
    for ep in episodes:
        child = by_id.get(ep.child_id)
        start = ep.start_day
        end = london_day(ep.ended_at) if ep.ended_at else None
        if child is None or not child.in_care(start) or start > last:
            continue
        if end is not None and end < first:
            continue
        kind = "M" if ep.missing else "A"
        rows.append((child.child_id, born[child.child_id], kind, start,
                     end if end is not None and end <= last else None))  # fmt: skip
    rows.sort(key=lambda r: (r[0], r[3], r[4] or date.max))
    return [(c, dob, k, _dmy(s), _dmy(e) if e else "") for c, dob, k, s, e in rows]


def list8(
    children: Sequence[ReturnChild], episodes: Sequence[ReturnEpisode], *, at: date
) -> list[tuple[str, ...]]:
    """Per child in care on ``at``: its M and A episodes starting in the twelve
    months to ``at`` (after the same day a year before, up to ``at`` itself), and
    the return interview of the latest M one: offered, and accepted if offered."""
    since = add_months(at, -12)
    mine: dict[str, list[ReturnEpisode]] = {c.child_id: [] for c in children}
    for ep in episodes:
        if ep.child_id in mine and since < ep.start_day <= at:
            mine[ep.child_id].append(ep)
    rows: list[tuple[str, ...]] = []
    for child in sorted(children, key=lambda c: c.child_id):
        if not child.in_care(at):
            continue
        eps = mine[child.child_id]
        missing = [e for e in eps if e.missing]
        latest = max(missing, key=lambda e: e.started_at, default=None)
        offered, accepted = _interview(latest, at)
        rows.append((child.child_id, str(len(missing)),
                     str(len(eps) - len(missing)), offered, accepted))  # fmt: skip
    return rows


def _interview(latest: ReturnEpisode | None, at: date) -> tuple[str, str]:
    if latest is None:
        return UNKNOWN, UNKNOWN
    if latest.rhi_offered:
        answer = (
            UNKNOWN
            if latest.rhi_accepted is None
            else YES
            if latest.rhi_accepted
            else NO
        )
        return YES, answer
    returned = latest.ended_at is not None and london_day(latest.ended_at) <= at
    return (NO if returned else UNKNOWN), UNKNOWN


def _dmy(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"  # strftime: 4x slower
