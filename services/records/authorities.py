"""English local authorities by DfE LA code (data/local_authorities.csv, from DfE's
published geography lookup; see docs/configuration.md to refresh it)."""

import csv
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "local_authorities.csv"


@cache
def la_codes() -> frozenset[str]:
    with DATA.open(encoding="utf-8", newline="") as f:
        return frozenset(row["la_code"] for row in csv.DictReader(f))


@cache
def la_names() -> dict[str, str]:
    """The authorities' names by code, for pages: ``886`` → ``Kent``."""
    with DATA.open(encoding="utf-8", newline="") as f:
        return {row["la_code"]: row["name"] for row in csv.DictReader(f)}
