"""Commands for the people Lantern knows: the children's records (from case
management) and the notifier's recipients directory."""

from __future__ import annotations

import asyncio
from typing import Annotated
from uuid import UUID

import typer

from events.contracts.recipients import RecipientRecorded
from events.envelope import NewEvent, utcnow
from events.runtime import open_store
from events.settings import CoreSettings
from events.streams import Category, stream_name
from services.api.audit import Access, audited_command, command_entry
from services.cli.settings import projectors, read_settings
from services.intake.children_csv import parse_children
from services.notifier.recipients.csv import parse_recipients
from services.notifier.recipients.projector import (
    SlotTakenError,
    list_recipients,
    record,
    remove,
)
from services.notifier.settings import NotifierSettings
from services.records.authorities import la_codes
from services.records.erasure import NotErasableError, erase_child, erase_report

children_app = typer.Typer(help="The children's records.", no_args_is_help=True)
recipients_app = typer.Typer(
    help="The notifier's recipients directory.", no_args_is_help=True
)


@children_app.command("import")
def children_import(
    file: Annotated[typer.FileText, typer.Argument(help="CSV; see docs/operations.md")],
) -> None:
    """Record every child in a CSV file; nothing is recorded if any row is bad."""
    settings = read_settings(CoreSettings)
    records, problems = parse_children(file, la_codes(), utcnow().date())
    if problems:
        typer.echo("\n".join(problems), err=True)
        raise typer.Exit(2)

    async def record_all() -> None:
        command = "lantern children import"
        async with (
            open_store(settings, projectors()) as store,
            audited_command(
                store.engine, command, Access.change, detail=f"{len(records)} children"
            ) as each,
        ):
            for record in records:
                await store.append(
                    stream_name(Category.child, record.la_child_id),
                    [NewEvent(event=record, actor="cli:children-import")],
                    expected_version=None,
                )
                each.append(
                    command_entry(
                        command, Access.change, la_child_id=record.la_child_id
                    )
                )

    asyncio.run(record_all())
    typer.echo(f"recorded {len(records)} child(ren)")


@recipients_app.command("import")
def recipients_import(
    file: Annotated[typer.FileText, typer.Argument(help="CSV; see docs/recipients.md")],
) -> None:
    """Record every recipient in a CSV file; nothing is recorded if any row is bad."""
    settings = read_settings(NotifierSettings)
    webhook_hosts = settings.channels.webhook.allowed_hosts

    async def record_all() -> tuple[int, int, list[str]]:
        async with (
            open_store(settings, projectors()) as store,
            audited_command(store.engine, "lantern recipients import", Access.change),
        ):
            existing = await list_recipients(store)
            entries, problems = parse_recipients(
                file, la_codes(), existing, webhook_hosts
            )
            changed = [e for e in entries if e not in existing]
            if changed and not problems:
                await record(store, changed, actor="cli:recipients-import")
            return len(changed), len(entries) - len(changed), problems

    try:
        changed, unchanged, problems = asyncio.run(record_all())
    except SlotTakenError:
        problems = ["the directory changed during the import: nothing was recorded"]
    if problems:
        typer.echo("\n".join(problems), err=True)
        raise typer.Exit(2)
    typer.echo(f"recorded {changed} recipient(s), {unchanged} unchanged")


@recipients_app.command("list")
def recipients_list(
    show_addresses: Annotated[
        bool, typer.Option(help="Also print the e-mail, phone and webhook URL")
    ] = False,
) -> None:
    """List the directory: id, kind, key, name and channels (not the addresses)."""
    settings = read_settings(CoreSettings)

    async def read() -> list[RecipientRecorded]:
        async with open_store(settings) as store:
            return await list_recipients(store)

    columns = ["id", "kind", "key", "name", "channels"]
    if show_addresses:
        columns += ["email", "phone", "webhook_url"]
    typer.echo("\t".join(columns))
    for e in asyncio.run(read()):
        addresses = {"email": e.email, "sms": e.phone, "webhook": e.webhook_url}
        channels = ",".join(c for c, address in addresses.items() if address)
        row = [e.recipient_id, e.kind, e.key or "-", e.name, channels]
        if show_addresses:
            row += [a or "-" for a in addresses.values()]
        typer.echo("\t".join(row))


@recipients_app.command("remove")
def recipients_remove(recipient_id: str) -> None:
    """Remove a recipient: routing leaves their place empty until it is filled."""
    settings = read_settings(CoreSettings)

    async def remove_one() -> bool:
        async with open_store(settings, projectors()) as store:
            return await remove(store, recipient_id, actor="cli:recipients-remove")

    if not asyncio.run(remove_one()):
        typer.echo(f"no recipient {recipient_id!r}", err=True)
        raise typer.Exit(2)
    typer.echo(f"removed {recipient_id}")


@children_app.command("erase")
def children_erase(
    la_child_id: Annotated[str, typer.Argument(help="The council's id of the child")],
    reason: Annotated[str, typer.Option(help="Why: kept with the keys and audited")],
) -> None:
    """Erase the child's personal data for good: destroy the keys of the child and
    of its episodes, then rebuild every read model (docs/data-protection.md)."""
    settings = read_settings(CoreSettings)

    async def erase() -> list[str]:
        command = "lantern children erase"
        async with (
            open_store(settings, projectors()) as store,
            audited_command(
                store.engine, command, Access.change, la_child_id=la_child_id,
                detail=f"erasure: {reason}",
            ),
        ):  # fmt: skip
            return await erase_child(store, la_child_id, reason)

    erased = asyncio.run(erase())
    if not erased:
        typer.echo(f"nothing to erase for {la_child_id}", err=True)
        raise typer.Exit(2)
    typer.echo(f"erased {len(erased)} key(s): {', '.join(erased)}")


@children_app.command("erase-report")
def children_erase_report(
    episode_id: Annotated[UUID, typer.Argument(help="The episode's id")],
    reason: Annotated[str, typer.Option(help="Why: kept with the keys and audited")],
) -> None:
    """Erase the personal data of a report withdrawn as made in error (its child
    perhaps never matched): destroy its episode's key, rebuild the read models."""
    settings = read_settings(CoreSettings)

    async def erase() -> list[str]:
        command = "lantern children erase-report"
        async with (
            open_store(settings, projectors()) as store,
            audited_command(
                store.engine, command, Access.change,
                detail=f"erasure of episode {episode_id}: {reason}",
            ),
        ):  # fmt: skip
            return await erase_report(store, episode_id, reason)

    try:
        erased = asyncio.run(erase())
    except NotErasableError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not erased:
        typer.echo(f"nothing to erase for episode {episode_id}", err=True)
        raise typer.Exit(2)
    typer.echo(f"erased {len(erased)} key(s): {', '.join(erased)}")
