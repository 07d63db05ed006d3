"""The panel's written findings from a report's figures: the movements that matter
most said in words with their numbers, the benchmarks, the conferences. Each
expectation is the sentence a reader should see, written out in full."""

from __future__ import annotations

from typing import Any

from services.reports.findings import Findings, findings

FIGURES = [
    "looked_after_children", "incidents", "incidents_missing", "incidents_away",
    "children_missing", "rhi_eligible", "rhi_offered", "rhi_accepted",
    "rhi_completed", "rhi_completed_in_time", "children_missing_pct",
    "one_or_two_episodes_pct", "incidents_per_looked_after_child",
    "incidents_per_missing_child", "rhi_offered_pct", "rhi_accepted_pct",
    "rhi_completed_in_time_pct",
]  # fmt: skip


def figures(**given: Any) -> dict[str, Any]:
    """A period's figures: each the same in both periods unless given."""
    plain = dict.fromkeys(FIGURES, 10)
    groups = {s: {**plain, **given.pop(s, {})} for s in ("citizen", "uasc")}
    return {**plain, **given, "by_status": groups}


def a_report(
    now: dict[str, Any] | None = None,
    then: dict[str, Any] | None = None,
    *,
    benchmarks: dict[str, float] | None = None,
    fgc: tuple[int, float | None, float | None] = (0, None, None),
) -> dict[str, Any]:
    current = figures(**(now or {}))
    comparators = {}
    if benchmarks is not None:
        value = current["incidents_per_looked_after_child"]
        comparators = {
            "incidents_per_looked_after_child": {
                "value": value, "benchmarks": benchmarks,
            }
        }  # fmt: skip
    children, before, after = fgc
    return {
        **current,
        "previous": figures(**(then or {})),
        "comparators": comparators,
        "family_group_conferences": {
            "children": children,
            "average_episodes_before": before,
            "average_episodes_after": after,
        },
    }


class TestMovements:
    def test_nothing_moved_nothing_is_said(self):
        assert findings(a_report()) == Findings((), ())

    def test_a_smaller_share_missing_is_working_well(self):
        report = a_report(
            {"children_missing_pct": 19.5}, {"children_missing_pct": 21.8}
        )
        assert findings(report) == Findings(
            working_well=(
                "The share of looked-after children who went missing fell from 21.8% "
                "to 19.5% (2.3 percentage points) on the previous period.",
            ),
            worried=(),
        )

    def test_fewer_interviews_offered_is_a_worry(self):
        report = a_report({"rhi_offered_pct": 90.0}, {"rhi_offered_pct": 98.0})
        assert findings(report).worried == (
            "Return interviews offered fell from 98.0% to 90.0% (8 percentage points) "
            "on the previous period.",
        )
        assert findings(report).working_well == ()

    def test_more_incidents_per_child_is_a_worry(self):
        report = a_report(
            {"incidents_per_looked_after_child": 0.79},
            {"incidents_per_looked_after_child": 0.71},
        )
        assert findings(report).worried == (
            "Incidents per looked-after child rose from 0.71 to 0.79 on the previous "
            "period.",
        )

    def test_each_group_is_said_apart(self):
        report = a_report(
            {"uasc": {"children_missing": 3}, "citizen": {"children_missing": 60}},
            {"uasc": {"children_missing": 7}, "citizen": {"children_missing": 50}},
        )
        assert findings(report) == Findings(
            working_well=(
                "UASC who went missing fell from 7 to 3 on the previous period.",
            ),
            worried=(
                "Citizen children who went missing rose from 50 to 60 on the "
                "previous period.",
            ),
        )

    def test_the_largest_movements_come_first_and_at_most_three(self):
        # relative movements: accepted 50%, in time 20%, offered 10%, one-or-two 5%
        report = a_report(
            {"rhi_accepted_pct": 80.0, "rhi_completed_in_time_pct": 50.0,
             "rhi_offered_pct": 100.0, "one_or_two_episodes_pct": 60.0},
            {"rhi_accepted_pct": 40.0, "rhi_completed_in_time_pct": 40.0,
             "rhi_offered_pct": 90.0, "one_or_two_episodes_pct": 57.0},
        )  # fmt: skip
        assert findings(report).working_well == (
            "Return interviews accepted when offered rose from 40.0% to 80.0% "
            "(40 percentage points) on the previous period.",
            "Return interviews completed within 3 working days rose from 40.0% to "
            "50.0% (10 percentage points) on the previous period.",
            "Return interviews offered rose from 90.0% to 100.0% (10 percentage "
            "points) on the previous period.",
        )

    def test_a_figure_with_nothing_to_divide_by_is_not_said(self):
        report = a_report({"rhi_offered_pct": None}, {"rhi_offered_pct": 98.0})
        assert findings(report) == Findings((), ())

    def test_from_nothing_to_something_is_said(self):
        report = a_report({"uasc": {"children_missing": 2}},
                          {"uasc": {"children_missing": 0}})  # fmt: skip
        assert findings(report).worried == (
            "UASC who went missing rose from 0 to 2 on the previous period.",
        )


class TestBenchmarks:
    def test_below_every_benchmark_is_working_well(self):
        report = a_report(
            {"incidents_per_looked_after_child": 0.71},
            {"incidents_per_looked_after_child": 0.71},
            benchmarks={"England": 0.79, "South East": 0.75, "Neighbours": 0.71},
        )
        assert findings(report) == Findings(
            working_well=(
                "Incidents per looked-after child (0.71) are at or below England "
                "0.79, South East 0.75 and Neighbours 0.71.",
            ),
            worried=(),
        )

    def test_above_a_benchmark_is_a_worry(self):
        report = a_report(
            {"incidents_per_looked_after_child": 0.77},
            {"incidents_per_looked_after_child": 0.77},
            benchmarks={"England": 0.79, "South East": 0.75},
        )
        assert findings(report) == Findings(
            working_well=(
                "Incidents per looked-after child (0.77) are at or below England 0.79.",
            ),
            worried=(
                "Incidents per looked-after child (0.77) are above South East 0.75.",
            ),
        )

    def test_no_looked_after_children_no_comparison(self):
        report = a_report(
            {"incidents_per_looked_after_child": None},
            {"incidents_per_looked_after_child": None},
            benchmarks={"England": 0.79},
        )
        assert findings(report) == Findings((), ())


class TestConferences:
    def test_fewer_episodes_after_a_conference_is_working_well(self):
        report = a_report(fgc=(7, 6.1, 1.8))
        assert findings(report).working_well == (
            "The 7 children with a missing family group conference had on average "
            "6.1 incidents in the 3 months before it and 1.8 in the 3 months after.",
        )

    def test_more_after_is_a_worry(self):
        report = a_report(fgc=(1, 1.0, 3.0))
        assert findings(report).worried == (
            "The 1 child with a missing family group conference had on average "
            "1.0 incidents in the 3 months before it and 3.0 in the 3 months after.",
        )

    def test_no_conference_nothing_said(self):
        assert findings(a_report(fgc=(0, None, None))) == Findings((), ())
