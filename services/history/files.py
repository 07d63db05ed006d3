"""The history folder's three CSV files, read and checked, pure: every row of every
file is checked before anything is recorded, so one bad row changes nothing, and each
problem names its file, line and field (``episodes.csv:12: rhi_offered: ...``), as
``lantern children import`` does.

- ``care_periods.csv``: ``la_child_id, start_date, end_date`` (end blank: in care);
- ``episodes.csv``: ``la_child_id, episode_type, start, end, rhi_offered,
  rhi_accepted, rhi_completed_at, reasons``;
- ``family_group_conferences.csv``: ``la_child_id, held_on``.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Literal, TypeVar

from events.calendar import LONDON
from events.contracts.children import CarePeriod
from events.contracts.missing import EpisodeType
from services.intake.care_periods import care_period_problems
from services.returns import reasons as taxonomy

CARE_PERIODS, EPISODES, CONFERENCES = (
    "care_periods.csv",
    "episodes.csv",
    "family_group_conferences.csv",
)
COLUMNS: dict[str, tuple[str, ...]] = {
    CARE_PERIODS: ("la_child_id", "start_date", "end_date"),
    EPISODES: (
        "la_child_id", "episode_type", "start", "end",
        "rhi_offered", "rhi_accepted", "rhi_completed_at", "reasons",
    ),
    CONFERENCES: ("la_child_id", "held_on"),
}  # fmt: skip
EPISODE_TYPES = {"M": EpisodeType.missing, "A": EpisodeType.away}
"""SSDA903 MISSING codes (DOMAIN.md §9 rule 1), case-insensitive."""
Answer = Literal["Y", "N", "NA"] | None
"""Annex A's RHI offered / accepted (DOMAIN.md §9 rule 3): Y, N, NA or blank."""
ANSWERS: dict[str, Answer] = {"Y": "Y", "N": "N", "NA": "NA", "": None}
CLOCK_SKEW = timedelta(minutes=5)
PERIOD = re.compile(r"care_periods\[(\d+)\]")


class RowError(ValueError):
    """A cell that is not what its column holds: its field, and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


@dataclass(frozen=True, slots=True)
class PeriodRow:
    line: int
    la_child_id: str
    period: CarePeriod


@dataclass(frozen=True, slots=True)
class EpisodeRow:
    line: int
    la_child_id: str
    episode_type: EpisodeType
    start: datetime
    end: datetime | None
    offered: Answer
    accepted: Answer
    completed_at: datetime | None
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConferenceRow:
    line: int
    la_child_id: str
    held_on: date


@dataclass
class History:
    """The rows of the folder, each file's in its order."""

    care_periods: list[PeriodRow] = field(default_factory=list)
    episodes: list[EpisodeRow] = field(default_factory=list)
    conferences: list[ConferenceRow] = field(default_factory=list)

    def children(self) -> set[str]:
        rows: list[PeriodRow | EpisodeRow | ConferenceRow] = [
            *self.care_periods,
            *self.episodes,
            *self.conferences,
        ]
        return {row.la_child_id for row in rows}

    def periods_by_child(self) -> dict[str, list[PeriodRow]]:
        found: dict[str, list[PeriodRow]] = defaultdict(list)
        for row in self.care_periods:
            found[row.la_child_id].append(row)
        return found

    def episodes_by_child(self) -> dict[str, list[EpisodeRow]]:
        """Each child's episodes, earliest first."""
        found: dict[str, list[EpisodeRow]] = defaultdict(list)
        for row in sorted(self.episodes, key=lambda r: r.start):
            found[row.la_child_id].append(row)
        return found


def parse_history(
    files: Mapping[str, Iterable[str]], known: Container[str], now: datetime
) -> tuple[History, list[str]]:
    """The rows of the files given (by name), or, if any row is bad, the problems:
    ``file:line: field: reason``. ``known``: the children's ids on record."""
    history, problems = History(), []
    readers: dict[str, Callable[[dict[str, str], datetime], object]] = {
        CARE_PERIODS: _period_row,
        EPISODES: _episode_row,
        CONFERENCES: _conference_row,
    }
    rows: dict[str, list[object]] = {name: [] for name in readers}
    for name, lines in files.items():
        reader = csv.DictReader(lines)
        missing = set(COLUMNS[name]) - set(reader.fieldnames or ())
        if missing:
            problems.append(f"{name}:1: missing columns: {', '.join(sorted(missing))}")
            continue
        for raw in reader:
            line = reader.line_num
            cells = {k: (v or "").strip() for k, v in raw.items() if k is not None}
            child = cells["la_child_id"]
            try:
                if not child:
                    raise RowError("la_child_id", "is required")
                row = readers[name]({**cells, "line": str(line)}, now)
            except RowError as exc:
                problems.append(f"{name}:{line}: {exc}")
                continue
            if child not in known:
                problems.append(
                    f"{name}:{line}: la_child_id: no child {child!r} on record "
                    "(lantern children import first)"
                )
            rows[name].append(row)
    history.care_periods = _typed(rows[CARE_PERIODS], PeriodRow)
    history.episodes = _typed(rows[EPISODES], EpisodeRow)
    history.conferences = _typed(rows[CONFERENCES], ConferenceRow)
    problems += _period_problems(history) + _episode_problems(history)
    problems += _conference_problems(history)
    return (history, []) if not problems else (History(), problems)


R = TypeVar("R")


def _typed(rows: list[object], kind: type[R]) -> list[R]:
    return [r for r in rows if isinstance(r, kind)]


def _date(cells: dict[str, str], name: str, *, required: bool) -> date | None:
    text = cells[name]
    if not text:
        if required:
            raise RowError(name, "is required")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise RowError(name, f"{text!r} is not a date (YYYY-MM-DD)") from None


def _moment(cells: dict[str, str], name: str, *, required: bool) -> datetime | None:
    text = cells[name]
    if not text:
        if required:
            raise RowError(name, "is required")
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise RowError(name, f"{text!r} is not an ISO 8601 date and time") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise RowError(name, f"{text!r} has no UTC offset (end it with Z or +01:00)")
    return at


def _not_future(name: str, value: date | datetime | None, now: datetime) -> None:
    if isinstance(value, datetime) and value > now + CLOCK_SKEW:
        raise RowError(name, "is in the future")
    if type(value) is date and value > now.astimezone(LONDON).date():
        raise RowError(name, "is in the future")


def _period_row(cells: dict[str, str], now: datetime) -> PeriodRow:
    start = _date(cells, "start_date", required=True)
    end = _date(cells, "end_date", required=False)
    assert start is not None  # noqa: S101 - required
    _not_future("start_date", start, now)
    _not_future("end_date", end, now)
    return PeriodRow(
        int(cells["line"]),
        cells["la_child_id"],
        CarePeriod(start_date=start, end_date=end),
    )


def _answer(cells: dict[str, str], name: str) -> Answer:
    text = cells[name].upper()
    if text not in ANSWERS:
        raise RowError(name, f"{cells[name]!r} is not Y, N, NA or blank")
    return ANSWERS[text]


def _episode_row(cells: dict[str, str], now: datetime) -> EpisodeRow:
    kind = EPISODE_TYPES.get(cells["episode_type"].upper())
    if kind is None:
        raise RowError("episode_type", f"{cells['episode_type']!r} is not M or A")
    start = _moment(cells, "start", required=True)
    assert start is not None  # noqa: S101 - required
    end = _moment(cells, "end", required=False)
    completed = _moment(cells, "rhi_completed_at", required=False)
    for name, value in (
        ("start", start),
        ("end", end),
        ("rhi_completed_at", completed),
    ):
        _not_future(name, value, now)
    if end is not None and end < start:  # DOMAIN.md §9 rule 7: equal is allowed
        raise RowError("end", "is before start")
    reasons = tuple(r.strip() for r in cells["reasons"].split(";") if r.strip())
    unknown = [reasons[i] for i in taxonomy.unknown_reasons(list(reasons))]
    if unknown:
        raise RowError(
            "reasons",
            f"{', '.join(map(repr, unknown))} not a reason code of taxonomy "
            f"v{taxonomy.VERSION}",
        )
    row = EpisodeRow(
        line=int(cells["line"]),
        la_child_id=cells["la_child_id"],
        episode_type=kind,
        start=start,
        end=end,
        offered=_answer(cells, "rhi_offered"),
        accepted=_answer(cells, "rhi_accepted"),
        completed_at=completed,
        reasons=reasons,
    )
    _check_interview(row)
    return row


def _check_interview(row: EpisodeRow) -> None:
    """The interview follows the return, as the API has it (docs/return-interviews.md):
    an answer needs an offer, a completion needs the child's yes."""
    if row.end is None:
        for name, given in (
            ("rhi_offered", row.offered not in (None, "NA")),
            ("rhi_accepted", row.accepted not in (None, "NA")),
            ("rhi_completed_at", row.completed_at is not None),
            ("reasons", bool(row.reasons)),
        ):
            if given:
                raise RowError(name, "is given, but end is blank: no return yet")
    if row.accepted in ("Y", "N") and row.offered != "Y":
        raise RowError("rhi_accepted", "needs rhi_offered Y: a child accepts an offer")
    if row.completed_at is not None:
        if row.accepted != "Y":
            raise RowError("rhi_completed_at", "needs rhi_accepted Y")
        if row.end is not None and row.completed_at < row.end:
            raise RowError("rhi_completed_at", "is before the return (end)")


def _conference_row(cells: dict[str, str], now: datetime) -> ConferenceRow:
    held_on = _date(cells, "held_on", required=True)
    assert held_on is not None  # noqa: S101 - required
    _not_future("held_on", held_on, now)
    return ConferenceRow(int(cells["line"]), cells["la_child_id"], held_on)


def _period_problems(history: History) -> list[str]:
    """Reversed or overlapping periods of one child (care_periods.py), by line."""
    problems = []
    for rows in history.periods_by_child().values():
        lines = [row.line for row in rows]
        for where, why in care_period_problems([r.period for r in rows]):
            index, _, name = where.removeprefix("care_periods[").partition("].")
            why = PERIOD.sub(partial(_period_line, lines), why)
            problems.append(f"{CARE_PERIODS}:{lines[int(index)]}: {name}: {why}")
    return problems


def _period_line(lines: list[int], match: re.Match[str]) -> str:
    return f"the period on line {lines[int(match[1])]}"


def _episode_problems(history: History) -> list[str]:
    """DOMAIN.md §9 rule 8 (903 rule 574): a child's episodes do not overlap, and none
    starts while an earlier one is open; one may start when the previous ended."""
    problems = []
    for rows in history.episodes_by_child().values():
        reach = rows[0]  # the episode reaching furthest so far
        for row in rows[1:]:
            if row.start == reach.start:
                why = f"duplicates the episode on line {reach.line}"
            elif reach.end is None or row.start < reach.end:
                why = f"overlaps the episode on line {reach.line}"
            else:
                why = ""
            if why:
                problems.append(f"{EPISODES}:{row.line}: start: {why}")
            if reach.end is not None and (row.end is None or row.end > reach.end):
                reach = row
    return problems


def _conference_problems(history: History) -> list[str]:
    seen: dict[tuple[str, date], int] = {}
    problems = []
    for row in history.conferences:
        key = (row.la_child_id, row.held_on)
        if key in seen:
            problems.append(
                f"{CONFERENCES}:{row.line}: held_on: duplicates line {seen[key]}"
            )
        seen.setdefault(key, row.line)
    return problems
