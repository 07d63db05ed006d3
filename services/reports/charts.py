"""The source document's four charts, drawn as inline SVG by pygal from a panel
report's figures: children missing each month, the reasons, the return interviews,
and incidents per looked-after child against the benchmarks. A chart with nothing
to draw is None, and the page says so in words instead of drawing an empty frame.
Each chart carries a <title> and sits beside a table of the same figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from itertools import cycle
from typing import Any

import pygal
from pygal.style import Style

BLUE, LIGHT_BLUE, ORANGE, LIGHT_ORANGE = "#1d70b8", "#8eb8dc", "#d4351c", "#eaa08e"
GREY, LIGHT_GREY, BLACK = "#505a5f", "#b1b4b6", "#0b0c0c"
FONT = "Arial, Helvetica, sans-serif"
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground=BLACK,
    foreground_strong=BLACK,
    foreground_subtle="#b1b4b6",
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    legend_font_family=FONT,
    title_font_family=FONT,
    label_font_size=15,
    major_label_font_size=15,
    legend_font_size=16,
    value_font_size=15,
    title_font_size=18,
    opacity="1",
    opacity_hover="1",
    colors=(BLUE, LIGHT_BLUE, ORANGE, LIGHT_ORANGE),
)
COMMON: dict[str, Any] = {
    "style": STYLE,
    "js": [],  # no script fetched from anywhere: the page is self-contained
    "disable_xml_declaration": True,
    "explicit_size": True,
    "width": 620,
    "legend_at_bottom": True,
    "truncate_legend": -1,
    "truncate_label": -1,
    "legend_at_bottom_columns": 2,
    "margin": 12,
    "show_y_guides": True,
}
INTERVIEWS = (
    ("rhi_offered_pct", "Offered"),
    ("rhi_accepted_pct", "Accepted"),
    ("rhi_completed_in_time_pct", "Completed in time"),
)


def month_label(month: str) -> str:
    """``2025-06`` as ``Jun 2025``."""
    return date.fromisoformat(f"{month}-01").strftime("%b %Y")


def monthly(report: Mapping[str, Any]) -> str | None:
    now, then = report["monthly"], report["previous"]["monthly"]
    months, before = list(now), list(then)
    if not any(n for m in (now, then) for g in m.values() for n in g.values()):
        return None
    top = max(n for m in (now, then) for g in m.values() for n in g.values())
    chart = pygal.Line(
        **{**COMMON, "width": 900, "legend_at_bottom_columns": 4},
        height=420,
        x_label_rotation=-35,
        y_title="Children",
        include_x_axis=True,
        y_labels=whole_numbers(top),
        # past two years, a label every few months: twelve or so fit the width
        x_labels_major_every=-(-len(months) // 12),
        show_minor_x_labels=len(months) <= 24,
        dots_size=4 if len(months) <= 24 else 2,
    )
    chart.x_labels = [month_label(m) for m in months]
    for status, name in (("citizen", "Citizen"), ("uasc", "UASC")):
        chart.add(f"{name}, this period", [now[m][status] for m in months])
        earlier = [then[m][status] for m in before][: len(months)]
        chart.add(
            f"{name}, previous period",
            earlier + [None] * (len(months) - len(earlier)),
            stroke_style={"dasharray": "6, 4", "width": 2},
        )
    return _svg(chart, "Looked-after children missing each month, citizen and UASC")


def reasons(report: Mapping[str, Any], labels: Mapping[str, str]) -> str | None:
    ranked: Sequence[Mapping[str, Any]] = report["reasons"]
    if not ranked:
        return None
    chart = pygal.HorizontalBar(
        **{**COMMON, "style": _one_colour(BLUE)},
        height=60 + 34 * len(ranked),
        show_legend=False,
        y_labels=whole_numbers(max(r["incidents"] for r in ranked)),
    )
    shown = list(reversed(ranked))  # pygal draws the first bar at the bottom
    # the number in the label: printed at the bar's end it would sit on the bar
    chart.x_labels = [
        f"{labels.get(r['reason'], r['reason'])}: {r['incidents']:,}" for r in shown
    ]
    chart.add("Incidents", [r["incidents"] for r in shown])
    return _svg(chart, "Reasons citizen children gave for going missing")


def interviews(report: Mapping[str, Any]) -> str | None:
    periods = (("This period", report), ("Previous period", report["previous"]))
    if all(p[f] is None for _, p in periods for f, _ in INTERVIEWS):
        return None
    chart = pygal.Bar(
        **COMMON,
        height=360,
        range=(0, 112),  # room above 100% for the value printed on top
        print_values=True,
        y_labels=list(range(0, 101, 20)),
        value_formatter=lambda v: f"{v:.0f}%",
        formatter=lambda v: f"{v:.1f}%",
        print_values_position="top",
    )
    chart.x_labels = [label for _, label in INTERVIEWS]
    for name, figures in periods:
        chart.add(name, [figures[f] for f, _ in INTERVIEWS])
    return _svg(chart, "Return interviews offered, accepted and completed in time")


def comparators(report: Mapping[str, Any]) -> str | None:
    comparator = report["comparators"].get("incidents_per_looked_after_child")
    if comparator is None or comparator["value"] is None:
        return None
    bars = [("This council", comparator["value"], BLUE)] + [
        (name, value, LIGHT_GREY) for name, value in comparator["benchmarks"].items()
    ]
    chart = pygal.HorizontalBar(
        **COMMON,
        height=60 + 44 * len(bars),
        show_legend=False,
        range=(0, top := tenths_above(max(v for _, v, _ in bars))),
        y_labels=[i / 5 for i in range(int(top * 5) + 1)],
        value_formatter=lambda v: f"{v:.1f}",
        formatter=lambda v: f"{v:.2f}",
    )
    shown = list(reversed(bars))
    chart.x_labels = [f"{name}: {value:.2f}" for name, value, _ in shown]
    chart.add(
        "Incidents per looked-after child",
        [{"value": v, "color": c} for _, v, c in shown],
    )
    return _svg(chart, "Incidents per looked-after child against the benchmarks")


def whole_numbers(top: int) -> list[int]:
    """Whole-number axis labels from 0 to a step past ``top``, at most about seven,
    stepping 1, 2 or 5 times a power of ten."""
    step, factors = 1, cycle((2, 2.5, 2))
    while top / step > 6:
        step = int(step * next(factors))
    return list(range(0, top + step + 1, step))


def tenths_above(value: float) -> float:
    """An axis end a tenth or more past ``value``, so its printed value fits."""
    return (int(value * 10) + 2) / 10


def _one_colour(colour: str) -> Style:
    style = Style(**{**STYLE.to_dict(), "colors": (colour,)})
    return style


def _svg(chart: Any, title: str) -> str:
    """The chart's SVG: its title first, as <title>, so a screen reader says it;
    without pygal's script (the page runs none) and comments (its links)."""

    def accessible(root: Any) -> Any:
        for parent in list(root.iter()):
            for child in list(parent):
                if child.tag == "script" or callable(child.tag):  # a comment
                    parent.remove(child)
        root.set("role", "img")
        heading = root.makeelement("title", {})
        heading.text = title
        root.insert(0, heading)
        return root

    chart.xml_filters = [accessible]
    svg: str = chart.render(is_unicode=True)
    return svg
