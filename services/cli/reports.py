"""`lantern report`: the panel report of a period, written to a file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from events.runtime import open_store
from services.cli.settings import read_settings
from services.reports.page import render_html, render_pdf
from services.reports.periods import Period, period_problems
from services.reports.service import panel_report
from services.reports.settings import ReportsSettings

report_app = typer.Typer(help="Reports computed from the log.", no_args_is_help=True)


def _json(report: dict[str, object]) -> bytes:
    return (json.dumps(report, indent=2) + "\n").encode()


def _html(report: dict[str, object]) -> bytes:
    return render_html(report, generated_at=datetime.now(UTC)).encode()


def _pdf(report: dict[str, object]) -> bytes:
    return render_pdf(render_html(report, generated_at=datetime.now(UTC)))


WRITERS: dict[str, Callable[[dict[str, object]], bytes]] = {
    ".json": _json,
    ".html": _html,
    ".pdf": _pdf,
}


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
    out: Annotated[Path, typer.Option(help="report.json, report.html or report.pdf")],
) -> None:
    """The Corporate Parenting Panel's figures for [from, to) (docs/reports.md):
    the figures as JSON, or the page with its charts and findings, or that page
    printed to PDF."""
    write = WRITERS.get(out.suffix.lower())
    if write is None:
        typer.echo(f"error: --out {out}: write .json, .html or .pdf", err=True)
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
    out.write_bytes(write(report))
    typer.echo(f"wrote {out}")
