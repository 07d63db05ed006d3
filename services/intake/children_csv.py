"""The children's records as CSV, for `lantern children import`: one child a row.

Every row is checked before anything is recorded, so a file with one bad row
changes nothing and the error names its line and field. The optional column
``care_periods`` holds the child's periods of care as ``start/end`` ISO dates
separated by ``;``, ``start/`` for one still open (care_periods.py).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from typing import Annotated

from pydantic import StringConstraints, ValidationError

from events.contracts.children import ChildRecorded
from services.api.schemas import CHILD_ID
from services.intake.care_periods import care_period_problems, parse_care_periods
from services.intake.schemas import ChildRecordPut

COLUMNS = (
    "la_child_id", "given_name", "family_name", "date_of_birth", "looked_after", "uasc",
    "placing_authority", "placement_district", "ola",
    "social_worker_name", "social_worker_email", "social_worker_phone",
    "team_name", "team_email", "team_phone",
)  # fmt: skip
OPTIONAL = ("placing_authority_child_id", "care_periods")
"""Columns a file may leave out: files written before they existed stay valid."""


class ChildRow(ChildRecordPut):
    """A row: the API's body and the id the API takes from the path."""

    la_child_id: Annotated[str, StringConstraints(pattern=CHILD_ID)]


def _contact(row: dict[str, str], prefix: str) -> dict[str, str | None] | None:
    if not row.get(f"{prefix}_name"):
        return None
    return {
        "name": row[f"{prefix}_name"],
        "email": row.get(f"{prefix}_email") or None,
        "phone": row.get(f"{prefix}_phone") or None,
    }


def parse_children(
    lines: Iterable[str], la_codes: frozenset[str], today: date
) -> tuple[list[ChildRecorded], list[str]]:
    """The records, or, if any row is bad, none and the problems (line: field: why)."""
    reader = csv.DictReader(lines)
    missing = set(COLUMNS) - set(reader.fieldnames or ())
    if missing:
        return [], [f"line 1: missing columns: {', '.join(sorted(missing))}"]
    records, problems = [], []
    for line, row in enumerate(reader, start=2):
        plain = [k for k in COLUMNS if not k.startswith(("social", "team"))]
        try:
            periods = parse_care_periods(row.get("care_periods") or "")
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
            continue
        body = {
            **{k: row.get(k) or None for k in (*plain, "placing_authority_child_id")},
            "social_worker": _contact(row, "social_worker"),
            "team": _contact(row, "team"),
            "care_periods": [p.model_dump() for p in periods],
        }
        try:  # a cell is text: its flags are words ("true", "yes", "1"), not JSON
            child = ChildRow.model_validate(body, strict=False)
        except ValidationError as exc:
            problems += [
                f"line {line}: {'.'.join(map(str, e['loc']))}: {e['msg']}"
                for e in exc.errors()
            ]
            continue
        if child.placing_authority not in la_codes:
            problems.append(f"line {line}: placing_authority: not a known LA code")
        if child.date_of_birth > today:
            problems.append(f"line {line}: date_of_birth: is in the future")
        problems += [
            f"line {line}: {field}: {why}"
            for field, why in care_period_problems(child.care_periods)
        ]
        records.append(ChildRecorded(**child.model_dump()))
    return (records, problems) if not problems else ([], problems)
