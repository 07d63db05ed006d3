"""Periods of care on the child's record: ChildRecorded v2, the checks that name the
period at fault (DOMAIN.md §9 rules 7 and 8, as 903 rules 567/574 apply them to
missing periods), and the CSV encoding of `lantern children import`."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest

from events.contracts.children import CarePeriod, ChildRecorded
from events.registry import decode, decode_json
from services.intake.care_periods import (
    care_period_problems,
    format_care_periods,
    parse_care_periods,
)
from services.intake.children_csv import COLUMNS, parse_children

V1 = {
    "la_child_id": "C1", "given_name": "Sam", "family_name": "Taylor",
    "date_of_birth": "2011-05-14", "looked_after": True, "uasc": False,
    "placing_authority": "886", "placement_district": None, "ola": False,
    "social_worker": None, "team": None,
}  # fmt: skip


def p(start: str, end: str | None = None) -> CarePeriod:
    return CarePeriod(
        start_date=date.fromisoformat(start),
        end_date=date.fromisoformat(end) if end else None,
    )


def test_a_v1_record_reads_with_no_periods_of_care():
    stored = json.dumps(V1)
    for read in (
        decode("ChildRecorded", 1, V1),
        decode_json("ChildRecorded", 1, stored),
    ):
        assert isinstance(read, ChildRecorded)
        assert read.care_periods == []
    assert ChildRecorded.schema_version == 2


def test_a_v2_record_reads_back_as_itself():
    record = ChildRecorded.model_validate(
        {**V1, "care_periods": [p("2019-04-01", "2020-03-31"), p("2021-06-01")]}
    )
    assert decode_json("ChildRecorded", 2, json.dumps(record.to_data())) == record


@pytest.mark.parametrize(
    ("periods", "problems"),
    [
        pytest.param([], [], id="none"),
        pytest.param([p("2020-01-01", "2020-01-01")], [], id="one day (567: equal ok)"),
        pytest.param(
            [p("2020-01-02", "2020-01-01")],
            [("care_periods[0].end_date", "is before start_date")],
            id="ends before it starts (567)",
        ),
        pytest.param(
            [p("2020-01-01", "2020-06-01"), p("2020-06-01")],
            [],
            id="starts the day the previous ended (574 allows)",
        ),
        pytest.param(
            [p("2021-01-01"), p("2020-01-01", "2021-01-02")],
            [("care_periods[0].start_date", "overlaps care_periods[1]")],
            id="overlap named at the later start, in the caller's order",
        ),
        pytest.param(
            [p("2020-01-01"), p("2022-01-01", "2022-02-01")],
            [("care_periods[1].start_date", "overlaps care_periods[0]")],
            id="starts while an earlier one is open (574)",
        ),
        pytest.param(
            [
                p("2020-01-01", "2025-01-01"),
                p("2021-01-01", "2021-02-01"),
                p("2022-01-01", "2022-02-01"),
            ],
            [
                ("care_periods[1].start_date", "overlaps care_periods[0]"),
                ("care_periods[2].start_date", "overlaps care_periods[0]"),
            ],
            id="a long period holding two others",
        ),
    ],
)
def test_problems_name_the_period(periods, problems):
    assert care_period_problems(periods) == problems


def test_the_csv_encoding_round_trips():
    periods = [p("2019-04-01", "2020-03-31"), p("2021-06-01")]
    text = "2019-04-01/2020-03-31;2021-06-01/"
    assert format_care_periods(periods) == text
    assert parse_care_periods(text) == periods
    assert parse_care_periods("") == []


@pytest.mark.parametrize("bad", ["2019-04-01", "2019-13-01/", "x/2020-01-01"])
def test_a_malformed_period_is_named(bad):
    with pytest.raises(ValueError, match=r"care_periods\[1\]"):
        parse_care_periods(f"2018-01-01/2018-02-01;{bad}")


def _csv(*rows: dict[str, str], columns=(*COLUMNS, "care_periods")) -> io.StringIO:
    lines = [",".join(columns)]
    for row in rows:
        lines.append(",".join(row.get(c, "") for c in columns))
    return io.StringIO("\n".join(lines) + "\n")


ROW = {
    "la_child_id": "C1", "given_name": "Sam", "family_name": "Taylor",
    "date_of_birth": "2011-05-14", "looked_after": "true", "uasc": "false",
    "placing_authority": "886", "ola": "false",
}  # fmt: skip
CODES = frozenset({"886"})
TODAY = date(2026, 11, 26)


def test_the_import_reads_periods_of_care():
    file = _csv({**ROW, "care_periods": "2019-04-01/2020-03-31;2021-06-01/"})
    [record], problems = parse_children(file, CODES, TODAY)
    assert problems == []
    assert record.care_periods == [p("2019-04-01", "2020-03-31"), p("2021-06-01")]


def test_the_import_without_the_column_records_no_periods():
    [record], problems = parse_children(_csv(ROW, columns=COLUMNS), CODES, TODAY)
    assert problems == [] and record.care_periods == []


def test_bad_periods_in_the_import_name_line_and_period():
    file = _csv(
        {**ROW, "care_periods": "2021-06-01/2021-01-01"},
        {**ROW, "la_child_id": "C2", "care_periods": "2020-01-01/;2021-01-01/"},
        {**ROW, "la_child_id": "C3", "care_periods": "2020-01-01"},
    )
    records, problems = parse_children(file, CODES, TODAY)
    assert records == []
    assert problems == [
        "line 2: care_periods[0].end_date: is before start_date",
        "line 3: care_periods[1].start_date: overlaps care_periods[0]",
        "line 4: care_periods[0]: '2020-01-01' is not YYYY-MM-DD/[YYYY-MM-DD]",
    ]
