"""The recipients directory as CSV, for `lantern recipients import`: one recipient a
row. Every row is checked, also against the directory as it stands, before anything
is recorded, so a file with one bad row changes nothing and the error names its line
and field.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence, Set

from pydantic import ValidationError

from events.contracts.recipients import RecipientRecorded
from services.notifier.recipients.entries import RECIPIENT_ID, Problem, checked, clashes
from services.notifier.recipients.schemas import RecipientPut

COLUMNS = ("recipient_id", "kind", "key", "name", "email", "phone", "webhook_url")


def parse_recipients(
    lines: Iterable[str],
    la_codes: frozenset[str],
    existing: Sequence[RecipientRecorded],
    webhook_hosts: Set[str],
) -> tuple[list[RecipientRecorded], list[str]]:
    """The entries, or, if any row is bad, none and the problems (line: field: why).
    ``webhook_hosts`` as for ``entries.checked``."""
    reader = csv.DictReader(lines)
    missing = set(COLUMNS) - set(reader.fieldnames or ())
    if missing:
        return [], [f"line 1: missing columns: {', '.join(sorted(missing))}"]
    entries: list[RecipientRecorded] = []
    line_of: dict[str, int] = {}
    problems = []
    for row in reader:
        line = reader.line_num
        entry, found = _entry(row, la_codes, webhook_hosts)
        if entry and entry.recipient_id in line_of:
            first = line_of[entry.recipient_id]
            found.append(("recipient_id", f"is on line {first} too"))
        problems += [f"line {line}: {field}: {why}" for field, why in found]
        if entry and not found:
            entries.append(entry)
            line_of[entry.recipient_id] = line
    for index, (field, why) in clashes(existing, entries):
        problems.append(f"line {line_of[entries[index].recipient_id]}: {field}: {why}")
    return (entries, problems) if not problems else ([], problems)


def _entry(
    row: dict[str | None, str | None], la_codes: frozenset[str], webhook_hosts: Set[str]
) -> tuple[RecipientRecorded | None, list[Problem]]:
    if None in row:  # csv puts cells beyond the header under None
        return None, [("row", "has more cells than the header (quote commas)")]
    recipient_id = (row["recipient_id"] or "").strip()
    problems: list[Problem] = []
    if not re.match(RECIPIENT_ID, recipient_id):
        problems.append(
            ("recipient_id", "1 to 60 letters, digits, - and _, not starting with -/_")
        )
    try:
        put = RecipientPut.model_validate({k: row[k] or None for k in COLUMNS[1:]})
    except ValidationError as exc:
        errors = [(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]
        return None, problems + errors
    entry, found = checked(
        RecipientRecorded(recipient_id=recipient_id, **put.model_dump()),
        la_codes,
        webhook_hosts,
    )
    return entry, problems + found
