"""`lantern history import DIR`: a council's past, when it adopts Lantern. Nothing
is recorded if one row is bad; what is recorded is history, so no service running
beside it assesses, alerts or records anything for the past (docs/operations.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from events.envelope import utcnow
from events.runtime import open_store
from services.api.audit import Access, audited_command
from services.cli.settings import projectors, read_settings
from services.history.importer import Imported, import_folder
from services.returns.settings import ReturnsSettings

history_app = typer.Typer(
    help="A council's history, brought when it adopts Lantern.", no_args_is_help=True
)


@history_app.command("import")
def history_import(
    folder: Annotated[
        Path,
        typer.Argument(
            exists=True,
            file_okay=False,
            help="care_periods.csv, episodes.csv, family_group_conferences.csv; "
            "see docs/operations.md",
        ),
    ],
) -> None:
    """Record a council's past episodes, interviews, periods of care and Family
    Group Conferences as history; nothing is recorded if any row is bad."""
    settings = read_settings(ReturnsSettings)

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task("children", total=None)
    shown: list[bool] = []

    def progress(done: int, total: int) -> None:
        """Shown once the folder is checked: problems print alone."""
        if not shown:
            bar.start()
            shown.append(True)
        bar.update(task, completed=done, total=total)

    async def import_all() -> Imported:
        async with (
            open_store(settings, projectors()) as store,
            audited_command(store.engine, "lantern history import", Access.change),
        ):
            return await import_folder(
                store,
                folder,
                source=folder.resolve().name,
                deadline=settings.returns_deadline,
                now=utcnow(),
                progress=progress,
            )

    try:
        imported = asyncio.run(import_all())
    finally:
        if shown:
            bar.stop()
    if imported.problems:
        typer.echo("\n".join(imported.problems), err=True)
        typer.echo("nothing imported", err=True)
        raise typer.Exit(2)
    typer.echo(
        f"recorded {imported.recorded} event(s) for {imported.children} child(ren)"
    )
