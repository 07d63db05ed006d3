"""Settings, the policy file and the port as every command reads or takes them: a bad
one stops the command (exit status 2), naming the variable and the reason."""

from __future__ import annotations

import socket
from typing import Any, TypeVar

import typer
from pydantic import ValidationError

from events.logs import configure_logging
from events.settings import CoreSettings
from events.store import Projector
from services.triage.policy import Policy
from services.triage.policy_file import PolicyFileError, load_policy
from services.triage.settings import TriageSettings

S = TypeVar("S", bound=CoreSettings)


def read_settings(cls: type[S], **overrides: Any) -> S:
    try:
        settings = cls(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        for error in exc.errors():
            if not error["loc"]:  # a rule across settings names them itself
                reason = error["msg"].removeprefix("Value error, ")
                typer.echo(f"invalid setting {reason}", err=True)
                continue
            name = "LANTERN_" + "__".join(str(p) for p in error["loc"]).upper()
            typer.echo(f"invalid setting {name}: {error['msg']}", err=True)
        raise typer.Exit(2) from None
    configure_logging(
        level=settings.log_level,
        fmt=settings.log_format,
        environment=settings.environment,
    )
    return settings


def read_policy(settings: TriageSettings) -> Policy:
    try:
        return load_policy(settings.triage_policy_file)
    except PolicyFileError as exc:
        typer.echo(f"invalid setting LANTERN_TRIAGE_POLICY_FILE: {exc}", err=True)
        raise typer.Exit(2) from None


def required(name: str) -> typer.Exit:
    typer.echo(f"invalid setting {name}: required", err=True)
    return typer.Exit(2)


def listen(
    host: str, port: int, *, option: str = "--port (LANTERN_PORT)"
) -> socket.socket:
    """The command's port, taken before anything starts; one already taken stops it."""
    from services.processes import CannotListenError, listening_socket

    try:
        return listening_socket(host, port)
    except CannotListenError as exc:
        typer.echo(
            f"{exc}; is it running already? Choose another with {option}", err=True
        )
        raise typer.Exit(2) from None


def projectors() -> list[Projector]:
    """Every read model, for a command that appends. Imported here, when called:
    services/processes.py composes every service, which took ~2 s of any command's
    start (bench/report.py), reading ones included."""
    from services.processes import projectors as every

    return every()
