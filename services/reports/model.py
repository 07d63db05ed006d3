"""The plain data the panel report's figures are computed from (figures.py), as the
loader (loading.py) reads it from the reports' read model. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class CarePeriod:
    start: date
    end: date | None  # the day care ceased (SSDA903 DEC); None while in care

    def overlaps(self, start: date, end: date) -> bool:
        """With the half-open ``[start, end)``."""
        return self.start < end and (self.end is None or self.end >= start)

    def holds(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class GroupCounts:
    """What the read model counts for one group of children (citizen or UASC) in a
    period: its looked-after children, their incidents of the period and the children
    with any, and the incidents' return interviews."""

    looked_after_children: int = 0
    incidents: int = 0
    incidents_missing: int = 0
    children_missing: int = 0
    children_one_or_two: int = 0  # of children_missing: those with 1 or 2 incidents
    rhi_eligible: int = 0
    rhi_offered: int = 0  # of the eligible
    rhi_accepted: int = 0  # of the offered
    rhi_completed: int = 0  # of the eligible
    rhi_completed_in_time: int = 0  # of the completed


@dataclass(frozen=True)
class PeriodCounts:
    """A period's counts, each group's apart."""

    citizen: GroupCounts = GroupCounts()
    uasc: GroupCounts = GroupCounts()
    monthly: Mapping[tuple[str, bool], int] = field(default_factory=dict)
    """(``YYYY-MM``, uasc) -> the children with an incident starting that month."""
    reasons: Sequence[tuple[tuple[str, ...], int]] = ()
    """Citizen children's incidents: each list of reasons given, with how many gave
    it."""


@dataclass(frozen=True)
class Conference:
    child_id: str
    held_on: date


@dataclass(frozen=True)
class PanelData:
    """What the report reads for a period: its counts and the previous period's;
    the conferences held in the period by looked-after children, and those
    children's incidents' start days (London) from three months before the period
    to three months after it."""

    current: PeriodCounts = PeriodCounts()
    previous: PeriodCounts = PeriodCounts()
    conferences: Sequence[Conference] = ()
    conference_incidents: Mapping[str, Sequence[date]] = field(default_factory=dict)


@dataclass(frozen=True)
class Comparator:
    figure: str
    benchmarks: Mapping[str, float] = field(default_factory=dict)
