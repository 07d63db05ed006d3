"""The panel's short written findings, "What is working well" and "What are we
worried about" (the source document's §8.1-8.2): the figures that moved most since
the previous period, each said in words with its numbers, the council's figures
against the benchmarks it sets, and what followed its family group conferences.
Pure: a function of the report's figures alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DASH = "\u2013"  # a figure with nothing to divide by, as the page shows it
MOST = 3
"""Each list says at most this many movements: the ones that moved most."""


@dataclass(frozen=True)
class Watched:
    """A figure the panel watches: how to say it, and which way is better."""

    figure: str
    words: str
    lower_is_better: bool
    group: str | None = None  # "citizen" or "uasc": that group's figure


WATCHED = (
    Watched(
        "children_missing_pct",
        "the share of looked-after children who went missing",
        lower_is_better=True,
    ),
    Watched(
        "incidents_per_looked_after_child",
        "incidents per looked-after child",
        lower_is_better=True,
    ),
    Watched(
        "children_missing",
        "citizen children who went missing",
        lower_is_better=True,
        group="citizen",
    ),
    Watched(
        "children_missing", "UASC who went missing", lower_is_better=True, group="uasc"
    ),
    Watched(
        "one_or_two_episodes_pct",
        "the share of missing children with only one or two incidents",
        lower_is_better=False,
    ),
    Watched("rhi_offered_pct", "return interviews offered", lower_is_better=False),
    Watched(
        "rhi_accepted_pct",
        "return interviews accepted when offered",
        lower_is_better=False,
    ),
    Watched(
        "rhi_completed_in_time_pct",
        "return interviews completed within 3 working days",
        lower_is_better=False,
    ),
)


@dataclass(frozen=True)
class Findings:
    working_well: tuple[str, ...]
    worried: tuple[str, ...]


@dataclass(frozen=True)
class _Movement:
    score: float  # |change| / the larger of the two: unit-free, 0 to 1
    better: bool
    sentence: str


def findings(report: Mapping[str, Any]) -> Findings:
    """What improved and what worsened most on the previous period, largest
    movement first, then the benchmarks and the conferences."""
    moves = sorted(
        (m for w in WATCHED if (m := _movement(w, report)) is not None),
        key=lambda m: -m.score,
    )
    good = [m.sentence for m in moves if m.better][:MOST]
    bad = [m.sentence for m in moves if not m.better][:MOST]
    for better, sentence in _benchmarks(report) + _conferences(report):
        (good if better else bad).append(sentence)
    return Findings(tuple(good), tuple(bad))


def _figure(figures: Mapping[str, Any], watched: Watched) -> Any:
    if watched.group is not None:
        figures = figures["by_status"][watched.group]
    return figures[watched.figure]


def _movement(watched: Watched, report: Mapping[str, Any]) -> _Movement | None:
    now, then = _figure(report, watched), _figure(report["previous"], watched)
    if now is None or then is None or now == then:
        return None
    rose = now > then
    subject = watched.words[0].upper() + watched.words[1:]
    verb = "rose" if rose else "fell"
    said = f"{subject} {verb} from {number(watched.figure, then)} to "
    said += f"{number(watched.figure, now)}"
    if watched.figure.endswith("_pct"):
        points = abs(round(now - then, 1))
        said += f" ({points:g} percentage point{'' if points == 1 else 's'})"
    return _Movement(
        score=abs(now - then) / max(abs(now), abs(then)),
        better=rose != watched.lower_is_better,
        sentence=said + " on the previous period.",
    )


def _benchmarks(report: Mapping[str, Any]) -> list[tuple[bool, str]]:
    """Incidents per looked-after child against each benchmark (lower is better)."""
    found: list[tuple[bool, str]] = []
    comparator = report["comparators"].get("incidents_per_looked_after_child")
    if comparator is None or comparator["value"] is None:
        return found
    value, rate = comparator["value"], "incidents_per_looked_after_child"
    above = [n for n, b in comparator["benchmarks"].items() if value > b]
    below = [n for n, b in comparator["benchmarks"].items() if value <= b]
    for names, better, words in ((below, True, "at or below"), (above, False, "above")):
        if names:
            marks = [f"{n} {number(rate, comparator['benchmarks'][n])}" for n in names]
            listed = ", ".join(marks[:-1]) + " and " if len(marks) > 1 else ""
            said = f"Incidents per looked-after child ({number(rate, value)}) are "
            found.append((better, f"{said}{words} {listed}{marks[-1]}."))
    return found


def _conferences(report: Mapping[str, Any]) -> list[tuple[bool, str]]:
    fgc = report["family_group_conferences"]
    before, after = fgc["average_episodes_before"], fgc["average_episodes_after"]
    if not fgc["children"] or before is None or after is None or before == after:
        return []
    children = fgc["children"]
    who = f"{children} child{'' if children == 1 else 'ren'}"
    said = (
        f"The {who} with a missing family group conference had on average "
        f"{number('average', before)} incidents in the 3 months before it and "
        f"{number('average', after)} in the 3 months after."
    )
    return [(after < before, said)]


def number(figure: str, value: float | None) -> str:
    """A figure as a reader sees it: 21.8%, 0.71, 1,236; a dash for none."""
    if value is None:
        return DASH
    if figure.endswith("_pct"):
        return f"{value:.1f}%"
    if figure.startswith("average"):
        return f"{value:.1f}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return f"{value:,}"
