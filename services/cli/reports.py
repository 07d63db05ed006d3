"""`lantern report`: the panel report of a period, written to a file."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from events.runtime import open_store
from services.cli.settings import read_settings
from services.reports.periods import Period, period_problems
from services.reports.service import panel_report
from services.reports.settings import ReportsSettings

report_app = typer.Typer(help="Reports computed from the log.", no_args_is_help=True)
SUFFIXES = (".json",)  # .html and .pdf: the report's page, still to come


@report_app.command("panel")
def panel(
    start: Annotated[
        datetime,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day, YYYY-MM-DD"),
    ],
    end: Annotated[
        datetime,
        typer.Option(
            "--to", formats=["%Y-%m-%d"], help="Day after the last (exclusive)"
        ),
    ],
    out: Annotated[Path, typer.Option(help="report.json")],
) -> None:
    """The Corporate Parenting Panel's figures for [from, to) (docs/reports.md)."""
    if out.suffix.lower() not in SUFFIXES:
        typer.echo(
            f"error: --out {out}: only .json can be written for now"
            " (.html and .pdf are to come)",
            err=True,
        )
        raise typer.Exit(2)
    for name, reason in period_problems(start.date(), end.date()):
        typer.echo(f"error: --{name} {reason}", err=True)
        raise typer.Exit(2)
    settings = read_settings(ReportsSettings)
    period = Period(start.date(), end.date())

    async def compute() -> dict[str, object]:
        async with open_store(settings) as store:
            return await panel_report(store, settings, period)

    report = asyncio.run(compute())
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    typer.echo(f"wrote {out}")
