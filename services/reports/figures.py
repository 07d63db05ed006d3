"""The Corporate Parenting Panel's figures (issue #19; the source document's §4-§8),
as one pure function over plain data: the council's looked-after children, their
episodes with each one's return interview, and their family group conferences.

Days, months and "in time" are London's (events/calendar.py). A percentage or a rate
with nothing to divide by is None. Rounding is half up, as a reader expects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.reports.model import Child, Comparator, Episode, PanelData
from services.reports.periods import FGC_MONTHS, Period, add_months, london_day

TOP_REASONS = 12

PERCENT = (
    "children_missing_pct",
    "one_or_two_episodes_pct",
    "rhi_offered_pct",
    "rhi_accepted_pct",
    "rhi_completed_in_time_pct",
)
RATES = ("incidents_per_looked_after_child", "incidents_per_missing_child")
COUNTS = (
    "looked_after_children",
    "incidents",
    "incidents_missing",
    "incidents_away",
    "children_missing",
    "rhi_eligible",
    "rhi_offered",
    "rhi_accepted",
    "rhi_completed",
    "rhi_completed_in_time",
)
FIGURES = COUNTS + PERCENT + RATES
"""The figures of a period (and of each group), each a number or None."""


def ratio(
    numerator: int, denominator: int, places: int, scale: int = 1
) -> float | None:
    if not denominator:
        return None
    exact = Decimal(numerator * scale) / Decimal(denominator)
    return float(exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def panel(
    data: PanelData, period: Period, comparators: Sequence[Comparator] = ()
) -> dict[str, Any]:
    """The report of ``period``: its figures, each group's, the previous period's
    and the change, the conferences, and the council's benchmarks beside its own."""
    book = _Book(data)
    current = book.figures(period)
    previous = book.figures(period.previous)
    return {
        "period": _period(period),
        **current,
        "previous": {"period": _period(period.previous), **previous},
        "change": _change(current, previous),
        "family_group_conferences": book.conferences(period),
        "comparators": {
            c.figure: {"value": current[c.figure], "benchmarks": dict(c.benchmarks)}
            for c in comparators
        },
    }


def _period(period: Period) -> dict[str, str]:
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


class _Book:
    """The data indexed once: children by id, each child's episodes."""

    def __init__(self, data: PanelData) -> None:
        self.children = {c.child_id: c for c in data.children}
        self.by_child: dict[str, list[Episode]] = {}
        for episode in sorted(data.episodes, key=lambda e: e.started_at):
            if episode.child_id in self.children:
                self.by_child.setdefault(episode.child_id, []).append(episode)
        self.conferences_held = data.conferences
        self.in_care = {
            e.episode_id
            for child_id, episodes in self.by_child.items()
            for e in episodes
            if any(p.holds(e.start_day) for p in self.children[child_id].care_periods)
        }

    def incident(self, episode: Episode) -> bool:
        """An episode of a child in care when it started (SSDA903 rules 578/581)."""
        return episode.episode_id in self.in_care

    def looked_after(self, period: Period) -> list[Child]:
        return [
            c
            for c in self.children.values()
            if any(p.overlaps(period.start, period.end) for p in c.care_periods)
        ]

    def incidents(self, children: Iterable[Child], period: Period) -> list[Episode]:
        return [
            e
            for c in children
            for e in self.by_child.get(c.child_id, ())
            if e.start_day in period and self.incident(e)
        ]

    def figures(self, period: Period) -> dict[str, Any]:
        children = self.looked_after(period)
        incidents = self.incidents(children, period)
        citizen = [c for c in children if not c.uasc]
        uasc = [c for c in children if c.uasc]
        of_citizen = [e for e in incidents if not self.children[e.child_id].uasc]
        of_uasc = [e for e in incidents if self.children[e.child_id].uasc]
        return {
            **self.group(children, incidents),
            "monthly": self.monthly(incidents, period),
            "reasons": _reasons(of_citizen),
            "by_status": {
                "citizen": self.group(citizen, of_citizen),
                "uasc": self.group(uasc, of_uasc),
            },
        }

    def group(
        self, children: Sequence[Child], incidents: Sequence[Episode]
    ) -> dict[str, Any]:
        """The figures of ``children`` and their ``incidents`` of the period."""
        per_child = Counter(e.child_id for e in incidents)
        eligible = [e for e in incidents if self.rhi_eligible(e)]
        offered = [e for e in eligible if e.rhi_offered]
        completed = [e for e in eligible if e.rhi_completed_at is not None]
        in_time = [e for e in completed if _in_time(e)]
        counts = {
            "looked_after_children": len(children),
            "incidents": len(incidents),
            "incidents_missing": sum(e.missing for e in incidents),
            "incidents_away": sum(not e.missing for e in incidents),
            "children_missing": len(per_child),
            "rhi_eligible": len(eligible),
            "rhi_offered": len(offered),
            "rhi_accepted": sum(e.rhi_accepted for e in offered),
            "rhi_completed": len(completed),
            "rhi_completed_in_time": len(in_time),
        }
        few = sum(1 for n in per_child.values() if n <= 2)
        return {
            **counts,
            "children_missing_pct": ratio(len(per_child), len(children), 1, 100),
            "one_or_two_episodes_pct": ratio(few, len(per_child), 1, 100),
            "incidents_per_looked_after_child": ratio(len(incidents), len(children), 2),
            "incidents_per_missing_child": ratio(len(incidents), len(per_child), 2),
            "rhi_offered_pct": ratio(len(offered), len(eligible), 1, 100),
            "rhi_accepted_pct": ratio(counts["rhi_accepted"], len(offered), 1, 100),
            "rhi_completed_in_time_pct": ratio(len(in_time), len(completed), 1, 100),
        }

    def rhi_eligible(self, episode: Episode) -> bool:
        """Ended, and the child not missing again on or before the interview's due
        date: the source document's §5.1 (DOMAIN.md §9 rules 13-14)."""
        ended, due = episode.ended_at, episode.rhi_due_date
        if ended is None or due is None:
            return False
        return not any(
            other is not episode
            and other.started_at >= ended
            and other.start_day <= due
            for other in self.by_child[episode.child_id]
        )

    def monthly(
        self, incidents: Sequence[Episode], period: Period
    ) -> dict[str, dict[str, int]]:
        months: dict[str, dict[str, set[str]]] = {
            m: {"citizen": set(), "uasc": set()} for m in _months(period)
        }
        for e in incidents:
            status = "uasc" if self.children[e.child_id].uasc else "citizen"
            months[e.start_day.strftime("%Y-%m")][status].add(e.child_id)
        return {
            m: {status: len(ids) for status, ids in groups.items()}
            for m, groups in months.items()
        }

    def conferences(self, period: Period) -> dict[str, Any]:
        """Children with a conference in the period (their first in it), and their
        incidents in the three months before it and in the three from its day."""
        looked_after = {c.child_id for c in self.looked_after(period)}
        first: dict[str, date] = {}
        for c in sorted(self.conferences_held, key=lambda c: c.held_on):
            if c.held_on in period and c.child_id in looked_after:
                first.setdefault(c.child_id, c.held_on)
        before = sum(
            self._incidents_between(child, add_months(held, -FGC_MONTHS), held)
            for child, held in first.items()
        )
        after = sum(
            self._incidents_between(child, held, add_months(held, FGC_MONTHS))
            for child, held in first.items()
        )
        return {
            "children": len(first),
            "average_episodes_before": ratio(before, len(first), 1),
            "average_episodes_after": ratio(after, len(first), 1),
        }

    def _incidents_between(self, child_id: str, start: date, end: date) -> int:
        return sum(
            1
            for e in self.by_child.get(child_id, ())
            if start <= e.start_day < end and self.incident(e)
        )


def _in_time(episode: Episode) -> bool:
    completed, due = episode.rhi_completed_at, episode.rhi_due_date
    return completed is not None and due is not None and london_day(completed) <= due


def _reasons(incidents: Iterable[Episode]) -> list[dict[str, Any]]:
    counts = Counter(reason for e in incidents for reason in set(e.reasons))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"reason": r, "incidents": n} for r, n in ranked[:TOP_REASONS]]


def _months(period: Period) -> list[str]:
    months, day = [], period.start.replace(day=1)
    while day < period.end:
        months.append(day.strftime("%Y-%m"))
        day = add_months(day, 1)
    return months


def _change(current: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """This period's figures less the previous period's (percentage points for the
    percentages); None where either is None."""

    def less(now: Mapping[str, Any], then: Mapping[str, Any]) -> dict[str, Any]:
        return {name: _difference(name, now[name], then[name]) for name in FIGURES}

    groups = ("citizen", "uasc")
    return {
        **less(current, previous),
        "by_status": {
            s: less(current["by_status"][s], previous["by_status"][s]) for s in groups
        },
    }


def _difference(name: str, now: float | None, then: float | None) -> float | None:
    if now is None or then is None:
        return None
    if name in COUNTS:
        return now - then
    places = 1 if name in PERCENT else 2
    return float(
        (Decimal(str(now)) - Decimal(str(then))).quantize(Decimal(1).scaleb(-places))
    )
