"""The Corporate Parenting Panel's figures (issue #19; the source document's §4-§8),
as one pure function over what the read model counts (loading.py): each group's
children, incidents and return interviews in the period and the one before, the
children missing each month, the reasons given, and the family group conferences.
The arithmetic is here: the groups added, percentages and rates, nulls, changes.

Days, months and "in time" are London's (events/calendar.py). A percentage or a rate
with nothing to divide by is None. Rounding is half up, as a reader expects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.reports.model import Comparator, GroupCounts, PanelData, PeriodCounts
from services.reports.periods import FGC_MONTHS, Period, add_months

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
    current = _figures(data.current, period)
    previous = _figures(data.previous, period.previous)
    return {
        "period": _period(period),
        **current,
        "previous": {"period": _period(period.previous), **previous},
        "change": _change(current, previous),
        "family_group_conferences": _conferences(data, period),
        "comparators": {
            c.figure: {"value": current[c.figure], "benchmarks": dict(c.benchmarks)}
            for c in comparators
        },
    }


def _period(period: Period) -> dict[str, str]:
    return {"from": period.start.isoformat(), "to": period.end.isoformat()}


def _figures(counts: PeriodCounts, period: Period) -> dict[str, Any]:
    return {
        **_group(_together(counts.citizen, counts.uasc)),
        "monthly": {
            month: {
                "citizen": counts.monthly.get((month, False), 0),
                "uasc": counts.monthly.get((month, True), 0),
            }
            for month in _months(period)
        },
        "reasons": _reasons(counts.reasons),
        "by_status": {"citizen": _group(counts.citizen), "uasc": _group(counts.uasc)},
    }


def _together(*groups: GroupCounts) -> GroupCounts:
    """The groups' counts added: no child is in two groups."""
    return GroupCounts(
        *(sum(getattr(g, f.name) for g in groups) for f in fields(GroupCounts))
    )


def _group(g: GroupCounts) -> dict[str, Any]:
    """The figures of one group (or of all children) in a period."""
    return {
        "looked_after_children": g.looked_after_children,
        "incidents": g.incidents,
        "incidents_missing": g.incidents_missing,
        "incidents_away": g.incidents - g.incidents_missing,
        "children_missing": g.children_missing,
        "rhi_eligible": g.rhi_eligible,
        "rhi_offered": g.rhi_offered,
        "rhi_accepted": g.rhi_accepted,
        "rhi_completed": g.rhi_completed,
        "rhi_completed_in_time": g.rhi_completed_in_time,
        "children_missing_pct": ratio(
            g.children_missing, g.looked_after_children, 1, 100
        ),
        "one_or_two_episodes_pct": ratio(
            g.children_one_or_two, g.children_missing, 1, 100
        ),
        "incidents_per_looked_after_child": ratio(
            g.incidents, g.looked_after_children, 2
        ),
        "incidents_per_missing_child": ratio(g.incidents, g.children_missing, 2),
        "rhi_offered_pct": ratio(g.rhi_offered, g.rhi_eligible, 1, 100),
        "rhi_accepted_pct": ratio(g.rhi_accepted, g.rhi_offered, 1, 100),
        "rhi_completed_in_time_pct": ratio(
            g.rhi_completed_in_time, g.rhi_completed, 1, 100
        ),
    }


def _conferences(data: PanelData, period: Period) -> dict[str, Any]:
    """Children with a conference in the period (their first in it), and their
    incidents in the three months before it and in the three from its day."""
    first: dict[str, date] = {}
    for c in sorted(data.conferences, key=lambda c: c.held_on):
        if c.held_on in period:
            first.setdefault(c.child_id, c.held_on)
    before = after = 0
    for child, held in first.items():
        days = data.conference_incidents.get(child, ())
        before += sum(add_months(held, -FGC_MONTHS) <= d < held for d in days)
        after += sum(held <= d < add_months(held, FGC_MONTHS) for d in days)
    return {
        "children": len(first),
        "average_episodes_before": ratio(before, len(first), 1),
        "average_episodes_after": ratio(after, len(first), 1),
    }


def _reasons(given: Iterable[tuple[tuple[str, ...], int]]) -> list[dict[str, Any]]:
    """The same reason given twice for one incident counts once."""
    counts: Counter[str] = Counter()
    for reasons, incidents in given:
        for reason in set(reasons):
            counts[reason] += incidents
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
