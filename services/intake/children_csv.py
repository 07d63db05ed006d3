"""The children's records as CSV, for `lantern children import`: one child a row.

Every row is checked before anything is recorded, so a file with one bad row
changes nothing and the error names its line and field.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date

from pydantic import ValidationError

from events.contracts.children import ChildRecorded
from services.intake.schemas import ChildRecordPut

COLUMNS = (
    "la_child_id", "given_name", "family_name", "date_of_birth", "looked_after", "uasc",
    "placing_authority", "placement_district", "ola",
    "social_worker_name", "social_worker_email", "social_worker_phone",
    "team_name", "team_email", "team_phone",
)  # fmt: skip
OPTIONAL = ("placing_authority_child_id",)
"""Columns a file may leave out: files written before they existed stay valid."""


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
        la_child_id = row["la_child_id"] or ""
        plain = [k for k in COLUMNS[1:] if not k.startswith(("social", "team"))]
        body = {
            **{k: row.get(k) or None for k in (*plain, *OPTIONAL)},
            "social_worker": _contact(row, "social_worker"),
            "team": _contact(row, "team"),
        }
        try:
            put = ChildRecordPut.model_validate(body)
        except ValidationError as exc:
            problems += [
                f"line {line}: {'.'.join(map(str, e['loc']))}: {e['msg']}"
                for e in exc.errors()
            ]
            continue
        if not la_child_id.replace("_", "").isalnum():
            problems.append(f"line {line}: la_child_id: letters, digits and _ only")
        if put.placing_authority not in la_codes:
            problems.append(f"line {line}: placing_authority: not a known LA code")
        if put.date_of_birth > today:
            problems.append(f"line {line}: date_of_birth: is in the future")
        records.append(ChildRecorded(la_child_id=la_child_id, **put.model_dump()))
    return (records, problems) if not problems else ([], problems)
