"""The panel report as a page for people: one self-contained HTML document (inline
CSS and SVG, nothing fetched) rendered by Jinja2 from the same figures the JSON
answers, and the same document printed to an A4 PDF by WeasyPrint."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from events.calendar import LONDON
from services.reports import charts
from services.reports.findings import DASH, findings, number

REASON_LABELS = {
    "family_friends_contact": "Contact with family or friends",
    "placement_unhappy": "Unhappy in the placement",
    "peer_influence": "Peer influence",
    "freedom_boundaries": "Freedom, boundaries",
    "alcohol_substances": "Alcohol or drugs",
    "exploitation": "Exploitation",
    "conflict": "Conflict at the placement",
    "bullying": "Bullying",
    "emotional_wellbeing": "Emotional wellbeing",
    "avoiding_consequences": "Avoiding consequences",
    "home_area": "Home area, previous placement",
    "other": "Other",
    "not_disclosed": "Not disclosed",
}
"""Short labels for the chart's axis (the taxonomy: docs/return-interviews.md)."""
MINUS = "\u2212"

_ENVIRONMENT = Environment(
    loader=PackageLoader("services.reports", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _change(figure: str, value: float | None) -> str:
    if value is None:
        return DASH
    if value == 0:
        return "no change"
    sign = "+" if value > 0 else MINUS
    if figure.endswith("_pct"):
        return f"{sign}{abs(value):.1f} pts"
    return sign + number(figure, abs(value))


_ENVIRONMENT.filters["figure"] = lambda value, name: number(name, value)
_ENVIRONMENT.filters["change"] = lambda value, name: _change(name, value)
_ENVIRONMENT.filters["month"] = charts.month_label


def _day(day: str) -> str:
    return f"{date.fromisoformat(day):%-d %B %Y}"


def _last_day(end: str) -> str:
    """The period's last day: ``to`` is exclusive."""
    return f"{date.fromisoformat(end) - timedelta(days=1):%-d %B %Y}"


FILTERS = {
    "figure": _ENVIRONMENT.filters["figure"],
    "change": _ENVIRONMENT.filters["change"],
    "month": _ENVIRONMENT.filters["month"],
}
"""What panel_body.html.j2 needs of an environment that renders it."""


def render_html(report: Mapping[str, Any], *, generated_at: datetime) -> str:
    """The page of ``report`` (a panel report as the JSON answers it)."""
    template = _ENVIRONMENT.get_template("panel.html.j2")
    return template.render(**context(report, generated_at=generated_at))


def context(report: Mapping[str, Any], *, generated_at: datetime) -> dict[str, Any]:
    """What the report's templates show of ``report``: its figures, findings and
    charts, and its days in words."""
    svg = {
        "monthly": charts.monthly(report),
        "reasons": charts.reasons(report, REASON_LABELS),
        "interviews": charts.interviews(report),
        "comparators": charts.comparators(report),
    }
    return {
        "r": report,
        "previous": report["previous"],
        "findings": findings(report),
        "charts": {k: v and Markup(v) for k, v in svg.items()},  # noqa: S704 pygal's SVG
        "labels": REASON_LABELS,
        "first_day": _day(report["period"]["from"]),
        "last_day": _last_day(report["period"]["to"]),
        "previous_first": _day(report["previous"]["period"]["from"]),
        "previous_last": _last_day(report["previous"]["period"]["to"]),
        "generated": f"{generated_at.astimezone(LONDON):%-d %B %Y, %H:%M}",
    }


def render_pdf(html: str) -> bytes:
    """The page printed on A4 (its print stylesheet), by WeasyPrint."""
    from weasyprint import HTML  # slow to import: only the PDF needs it

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
