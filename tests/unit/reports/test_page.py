"""The page: what the figures carry is text, never markup, in the tables and in the
charts alike."""

from __future__ import annotations

from datetime import UTC, datetime

from services.reports.page import render_html
from tests.reports_world import PERIOD, edges, expected

BENCHMARKS = {"incidents_per_looked_after_child": {"<i>England</i>": 0.79}}


def test_a_strange_reason_or_benchmark_name_is_shown_as_text():
    report = expected(edges(), *PERIOD, BENCHMARKS)
    report["reasons"] = [{"reason": "<script>alert(1)</script>", "incidents": 3}]
    html = render_html(report, generated_at=datetime(2026, 6, 1, 9, tzinfo=UTC))
    assert "<script" not in html
    assert "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;England&lt;/i&gt;" in html


def test_the_time_generated_is_london_time():
    report = expected(edges(), *PERIOD, BENCHMARKS)
    html = render_html(report, generated_at=datetime(2026, 6, 1, 9, tzinfo=UTC))
    assert "Generated 1 June 2026, 10:00" in html
