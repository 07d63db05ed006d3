"""``lantern users``: local accounts for the web pages, when the council has no
identity provider configured (docs/web.md). A sign-in link is printed once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, TypeVar

import typer

from events.envelope import utcnow
from events.runtime import open_store
from services.api.audit import Access, audited_command
from services.api.web.people import People, PersonError, WebRole
from services.api.web.settings import WebSettings
from services.cli.settings import read_settings

T = TypeVar("T")
users_app = typer.Typer(
    help="People who sign in to the web pages (local accounts).", no_args_is_help=True
)


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Their work e-mail address")],
    role: Annotated[
        list[WebRole], typer.Option(help="staff, analyst or manager (repeatable)")
    ],
    name: Annotated[str, typer.Option(help="Shown on the pages")] = "",
) -> None:
    """Create an account; a one-time sign-in link is printed, as the last line."""

    async def create(people: People, settings: WebSettings) -> str:
        await people.create_local(email, name, frozenset(role), utcnow())
        return await _link(people, settings, email)

    typer.echo(_with_people(create, "lantern users create"))


@users_app.command("link")
def users_link(email: Annotated[str, typer.Option()]) -> None:
    """A new one-time sign-in link for an account (printed once, last line)."""
    typer.echo(
        _with_people(
            lambda people, settings: _link(people, settings, email),
            "lantern users link",
        )
    )


@users_app.command("disable")
def users_disable(email: Annotated[str, typer.Option()]) -> None:
    """Disable an account: its sessions end at once, its links stop working."""
    _with_people(
        lambda people, _: people.disable(email, utcnow()), "lantern users disable"
    )
    typer.echo(f"disabled {email}")


async def _link(people: People, settings: WebSettings, email: str) -> str:
    valid_for = timedelta(hours=settings.web_sign_in_link_hours)
    token = await people.sign_in_link(email, utcnow(), valid_for)
    return f"{settings.web_public_url}/sign-in/link/{token}"


def _with_people(
    action: Callable[[People, WebSettings], Awaitable[T]], command: str
) -> T:
    """Audited: the row names the command, not the person (no e-mail in it)."""
    settings = read_settings(WebSettings)

    async def run_action() -> T:
        async with (
            open_store(settings) as store,
            audited_command(store.engine, command, Access.change),
        ):
            return await action(People(store.engine), settings)

    try:
        return asyncio.run(run_action())
    except PersonError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
