"""The children's records CSV: the same bounds as the API, read as text."""

from __future__ import annotations

from datetime import date

import pytest

from services.intake.children_csv import COLUMNS, parse_children

CODES = frozenset({"886"})
ROW = {
    "la_child_id": "C1",
    "given_name": "Sam",
    "family_name": "Taylor",
    "date_of_birth": "2011-05-14",
    "looked_after": "true",
    "uasc": "no",
    "placing_authority": "886",
    "ola": "0",
}


def parse(**changes: str) -> tuple[list, list[str]]:
    row = {**ROW, **changes}
    lines = [",".join(COLUMNS), ",".join(row.get(c, "") for c in COLUMNS)]
    return parse_children(lines, CODES, date(2026, 11, 26))


def test_flags_are_read_as_words_in_a_cell():
    [record], problems = parse()
    assert problems == []
    assert (record.looked_after, record.uasc, record.ola) == (True, False, False)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"la_child_id": "C" * 41}, "la_child_id"),
        ({"la_child_id": "Ç1"}, "la_child_id"),
        ({"given_name": " "}, "given_name"),
        ({"family_name": "T" * 201}, "family_name"),
        ({"date_of_birth": "1300060800"}, "date_of_birth"),
    ],
)
def test_a_bad_cell_is_named(changes: dict[str, str], field: str):
    records, problems = parse(**changes)
    assert records == []
    assert [p.split(": ")[1] for p in problems] == [field]
