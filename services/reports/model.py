"""The plain data the panel report's figures are computed from (figures.py), as the
loader (loading.py) reads it from the reports' read model. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from services.reports.periods import london_day


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
class Child:
    """One of the council's own children (not placed here by another council)."""

    child_id: str
    uasc: bool
    care_periods: tuple[CarePeriod, ...]


@dataclass(frozen=True)
class Episode:
    """An episode that is one (not withdrawn as reported in error), with the return
    interview that followed it."""

    episode_id: str
    child_id: str
    missing: bool  # SSDA903 M; False: A, away
    started_at: datetime
    ended_at: datetime | None = None
    rhi_due_date: date | None = None  # 3 working days after the return (rule 13)
    rhi_offered: bool = False
    rhi_accepted: bool = False
    rhi_completed_at: datetime | None = None
    reasons: tuple[str, ...] = ()

    @cached_property
    def start_day(self) -> date:
        return london_day(self.started_at)


@dataclass(frozen=True)
class Conference:
    child_id: str
    held_on: date


@dataclass(frozen=True)
class PanelData:
    """What the report reads for a period: the children with care in the window,
    their episodes starting in it, the conferences held in the period."""

    children: Sequence[Child]
    episodes: Sequence[Episode]
    conferences: Sequence[Conference] = ()


@dataclass(frozen=True)
class Comparator:
    figure: str
    benchmarks: Mapping[str, float] = field(default_factory=dict)
