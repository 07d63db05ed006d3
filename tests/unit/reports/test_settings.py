"""The benchmarks the council sets beside its figures: JSON in
LANTERN_REPORTS_COMPARATORS, by default the source document's (§4.1)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.reports.model import Comparator
from services.reports.settings import ReportsSettings


def test_by_default_the_source_documents_england_and_south_east(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv("LANTERN_REPORTS_COMPARATORS", raising=False)
    assert ReportsSettings().comparators == (
        Comparator(
            "incidents_per_looked_after_child", {"England": 0.79, "South East": 0.75}
        ),
    )


def test_the_council_sets_its_own(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(
        "LANTERN_REPORTS_COMPARATORS",
        '{"incidents_per_looked_after_child": {"Statistical neighbours": 0.71},'
        ' "children_missing_pct": {"England": 11}}',
    )
    assert ReportsSettings().comparators == (
        Comparator(
            "incidents_per_looked_after_child", {"Statistical neighbours": 0.71}
        ),
        Comparator("children_missing_pct", {"England": 11.0}),
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('{"incidents_per_child": {"England": 5.7}}', "not a figure of the report"),
        ('{"incidents": {"England": "many"}}', "valid number"),
        ("not json", "reports_comparators"),
    ],
)
def test_a_bad_value_names_the_problem(
    monkeypatch: pytest.MonkeyPatch, value: str, reason: str
):
    monkeypatch.setenv("LANTERN_REPORTS_COMPARATORS", value)
    with pytest.raises((ValidationError, ValueError), match=reason):
        ReportsSettings()
