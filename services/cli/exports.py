"""`lantern export` and `lantern validate`: the statutory returns (the SSDA903
Missing table, Ofsted Annex A List 8) written as CSV, and the DfE's rules run over
a return's folder (docs/reports.md#statutory-returns). A bad argument stops the
command (exit 2) naming the option, before anything is read or written."""

from __future__ import annotations

import asyncio
import csv
import io
import os
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from events.runtime import open_store
from events.store import Reads
from services.api.audit import Access, audited_command
from services.cli.settings import read_settings
from services.reports.periods import EARLIEST, LATEST
from services.reports.service import list8_rows, missing_table_rows
from services.reports.settings import ReportsSettings
from services.reports.statutory import LIST8_COLUMNS, MISSING_COLUMNS
from services.reports.validation import (
    TABLES,
    ValidatorUnavailableError,
    default_cache,
    validate_folder,
)

export_app = typer.Typer(help="Statutory returns as CSV.", no_args_is_help=True)
validate_app = typer.Typer(help="The DfE's rules over a return.", no_args_is_help=True)
FIRST_YEAR, LAST_YEAR = 2015, 2999  # the Missing table was first collected in 2014/15
Year = Annotated[
    int,
    typer.Option(help="Collection year, by its end: 2026 is 1 April 2025 to 31 March"),
]


def _stop(option: str, reason: str) -> typer.Exit:
    typer.echo(f"error: {option} {reason}", err=True)
    return typer.Exit(2)


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _stop("--year", f"{year} is outside {FIRST_YEAR} to {LAST_YEAR}")


def _writable_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = f"{out}: cannot make the folder ({exc.strerror})"
        raise _stop("--out", reason) from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise _stop("--out", f"{out}: the folder is not writable")


def _writable_file(out: Path) -> None:
    if out.is_dir():
        raise _stop("--out", f"{out}: is a folder, not a file")
    folder = out.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise _stop("--out", f"{out}: its folder is missing or not writable")


Rows = list[tuple[str, ...]]


def _read(
    fetch: Callable[[Reads, ReportsSettings], Awaitable[Rows]], command: str
) -> Rows:
    """Every child's records: audited, one row for the command."""
    settings = read_settings(ReportsSettings)

    async def run() -> Rows:
        async with (
            open_store(settings) as store,
            audited_command(store.engine, command, Access.read),
        ):
            return await fetch(store, settings)

    return asyncio.run(run())


def _write_csv(out: Path, columns: Sequence[str], rows: Rows) -> None:
    """Whole or not at all: written beside, then renamed over."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_bytes(text.getvalue().encode("utf-8"))
    partial.replace(out)
    typer.echo(f"wrote {out} ({len(rows)} rows)")


@export_app.command("ssda903")
def ssda903(
    year: Year,
    out: Annotated[Path, typer.Option(help="Folder to write missing.csv in")],
) -> None:
    """The SSDA903 Missing table of a collection year: missing.csv."""
    _check_year(year)
    _writable_folder(out)
    rows = _read(
        lambda reads, s: missing_table_rows(reads, s, year=year),
        f"lantern export ssda903 --year {year}",
    )
    _write_csv(out / "missing.csv", MISSING_COLUMNS, rows)


@export_app.command("annex-a")
def annex_a(
    at: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="As of this day, YYYY-MM-DD")
    ],
    out: Annotated[Path, typer.Option(help="list8.csv")],
) -> None:
    """Ofsted Annex A, List 8's missing columns, per child in care on a day."""
    day: date = at.date()
    if not EARLIEST <= day <= LATEST:
        raise _stop("--at", f"{day} is outside {EARLIEST} to {LATEST}")
    _writable_file(out)
    rows = _read(
        lambda reads, s: list8_rows(reads, s, at=day),
        f"lantern export annex-a --at {day}",
    )
    _write_csv(out, LIST8_COLUMNS, rows)


@validate_app.command("ssda903")
def validate_ssda903(
    folder: Annotated[
        Path, typer.Argument(help="Holds header.csv, episodes.csv and missing.csv")
    ],
    year: Year,
    cache: Annotated[
        Path | None,
        typer.Option(
            envvar="LANTERN_VALIDATOR_CACHE",
            help="Where the validator's environment is made [~/.cache/lantern]",
        ),
    ] = None,
) -> None:
    """Run the DfE rules (csc-validator-be-903) over a return's folder; exit 1 if
    any is broken."""
    _check_year(year)
    if not folder.is_dir():
        raise _stop("FOLDER", f"{folder}: no such folder")
    absent = [name for name in TABLES if not (folder / name).is_file()]
    if absent:
        raise _stop("FOLDER", f"{folder}: has no {', '.join(absent)}")
    try:
        result = validate_folder(folder, year=year, cache=cache or default_cache())
    except ValidatorUnavailableError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from None
    for e in result.errors:
        typer.echo(f"{e.rule}\t{e.file} row {e.row}\tchild {e.child}\t{e.message}")
    if result.not_run:
        typer.echo(f"rules the validator could not run: {', '.join(result.not_run)}")
    typer.echo(f"{len(result.errors)} errors")
    raise typer.Exit(1 if result.errors else 0)
