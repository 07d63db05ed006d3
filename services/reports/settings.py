"""The reports' settings: which council's children they count (the council's own,
services/records/settings.py), and the benchmarks the council sets beside its
figures."""

from __future__ import annotations

from pydantic import Field, field_validator

from services.records.settings import CouncilSettings
from services.reports.figures import FIGURES
from services.reports.model import Comparator

DEFAULT_COMPARATORS = {
    "incidents_per_looked_after_child": {"England": 0.79, "South East": 0.75},
}
"""The source document's (§4.1): missing or absent incidents per looked-after child."""


class ReportsSettings(CouncilSettings):
    reports_comparators: dict[str, dict[str, float]] = Field(
        default_factory=lambda: DEFAULT_COMPARATORS,
        description="Benchmarks shown beside the council's own figures, as JSON: "
        '{"figure": {"England": 0.79, ...}}',
    )

    @field_validator("reports_comparators")
    @classmethod
    def _known_figures(
        cls, comparators: dict[str, dict[str, float]]
    ) -> dict[str, dict[str, float]]:
        unknown = sorted(set(comparators) - set(FIGURES))
        if unknown:
            raise ValueError(f"not a figure of the report: {', '.join(unknown)}")
        return comparators

    @property
    def comparators(self) -> tuple[Comparator, ...]:
        return tuple(
            Comparator(figure, benchmarks)
            for figure, benchmarks in self.reports_comparators.items()
        )
