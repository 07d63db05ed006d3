"""The panel report's answer as the OpenAPI document shows it: aggregate figures
only, each defined in docs/reports.md. Nothing in it names or identifies a child."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Percent = float | None
Rate = float | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PeriodRead(_Strict):
    from_: str = Field(alias="from", description="First London day, YYYY-MM-DD")
    to: str = Field(description="The day after the last (exclusive)")


class Figures(_Strict):
    """A period's figures, of all the looked-after children or of one group."""

    looked_after_children: int
    incidents: int
    incidents_missing: int
    incidents_away: int
    children_missing: int
    rhi_eligible: int
    rhi_offered: int
    rhi_accepted: int
    rhi_completed: int
    rhi_completed_in_time: int
    children_missing_pct: Percent
    one_or_two_episodes_pct: Percent
    incidents_per_looked_after_child: Rate
    incidents_per_missing_child: Rate
    rhi_offered_pct: Percent
    rhi_accepted_pct: Percent
    rhi_completed_in_time_pct: Percent


class Change(_Strict):
    """Each figure less the previous period's (null where either is null)."""

    looked_after_children: int | None
    incidents: int | None
    incidents_missing: int | None
    incidents_away: int | None
    children_missing: int | None
    rhi_eligible: int | None
    rhi_offered: int | None
    rhi_accepted: int | None
    rhi_completed: int | None
    rhi_completed_in_time: int | None
    children_missing_pct: Percent
    one_or_two_episodes_pct: Percent
    incidents_per_looked_after_child: Rate
    incidents_per_missing_child: Rate
    rhi_offered_pct: Percent
    rhi_accepted_pct: Percent
    rhi_completed_in_time_pct: Percent


class ByStatus(_Strict):
    citizen: Figures
    uasc: Figures


class ChangeByStatus(_Strict):
    citizen: Change
    uasc: Change


class Month(_Strict):
    citizen: int = Field(description="Citizen children with an incident that month")
    uasc: int = Field(description="UASC with an incident that month")


class Reason(_Strict):
    reason: str
    incidents: int


class PeriodFigures(Figures):
    period: PeriodRead
    monthly: dict[str, Month] = Field(description="Each London month, YYYY-MM")
    reasons: list[Reason] = Field(description="Citizen children's top twelve")
    by_status: ByStatus


class PeriodChange(Change):
    by_status: ChangeByStatus


class Conferences(_Strict):
    children: int
    average_episodes_before: Rate
    average_episodes_after: Rate


class ComparatorRead(_Strict):
    value: float | None = Field(description="The council's own figure")
    benchmarks: dict[str, float]


class PanelReport(PeriodFigures):
    previous: PeriodFigures
    change: PeriodChange
    family_group_conferences: Conferences
    comparators: dict[str, ComparatorRead]
