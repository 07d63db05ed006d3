"""Run in the DfE validator's own environment (requirements.txt beside this file),
never imported by Lantern: the DfE SSDA903 rules of ``lac_validator`` over a
folder's header.csv, episodes.csv and missing.csv, for a collection year (its end
year, "2026" for 2025/26). Prints the errors as JSON on stdout.

Usage: python runner.py FOLDER YEAR"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import json
import logging
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

TABLES = {"Header": "header.csv", "Episodes": "episodes.csv", "Missing": "missing.csv"}
LA_CODE = "E10000016"  # rules that need it read postcodes' LAs, not whose return


def isolated(registry: dict[str, Any]) -> dict[str, Any]:
    """Each rule on its own copy of the tables. The package hands every rule the
    same tables (a shallow copy), and some rules change them: in 0.1.17 rule 365
    fills each blank DEC with the year's end, after which 575 and 577 flag every
    open missing episode of a child still in care."""

    def on_a_copy(func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return lambda tables: func(copy.deepcopy(tables))

    return {
        code: dataclasses.replace(rule, func=on_a_copy(rule.func))
        for code, rule in registry.items()
    }


def validate(folder: Path, year: str) -> dict[str, Any]:
    from lac_validator.lac_validator import LacValidator
    from lac_validator.report import Report
    from lac_validator.rules.ruleset_utils import get_year_ruleset
    from lac_validator.utils import process_uploaded_files

    files = process_uploaded_files(
        {"This year": [str(folder / name) for name in TABLES.values()]}
    )
    registry = isolated(get_year_ruleset(year))
    metadata = {"collectionYear": year, "localAuthority": LA_CODE}
    checked = LacValidator(metadata=metadata, files=files, registry=registry)
    report = Report(checked.ds_results, registry).report
    messages = {str(rule.code): rule.message for rule in registry.values()}
    errors = []
    for column in (c for c in report.columns if c.startswith("ERR_")):
        code = column[4:]
        for _, row in report[report[column] == True].iterrows():  # noqa: E712
            errors.append(
                {
                    "rule": code,
                    "message": messages.get(code, ""),
                    "table": row["Table"],
                    "file": TABLES.get(row["Table"], row["Table"]),
                    "row": int(row["RowID"]) + 1,
                    "child": str(row["CHILD"]),
                }
            )
    return {"errors": errors, "not_run": sorted(map(str, checked.fails))}


def main() -> None:
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    folder, year = Path(sys.argv[1]), sys.argv[2]
    with contextlib.redirect_stdout(io.StringIO()):  # some rules print
        result = validate(folder, year)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
