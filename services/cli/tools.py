"""Stand-ins for outside systems, to try Lantern with: the council's risk sources
over reference data, and a receiver that prints the webhooks it is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from events.runtime import run_loop
from events.settings import CoreSettings
from services.cli.settings import listen, read_settings, required
from services.notifier.channels.settings import ChannelsSettings
from services.notifier.receiver import create_receiver_app
from services.reference_sources.server import (
    DEFAULT_DATA,
    Fault,
    Faults,
    Malformed,
    create_reference_app,
    load_reference_data,
)
from services.triage.sources import SourceName

sources_app = typer.Typer(
    help="The council's risk sources (Youth Justice, CME, CSE).", no_args_is_help=True
)
webhooks_app = typer.Typer(
    help="Webhooks: a receiver to try alerts out with.", no_args_is_help=True
)


@sources_app.command("serve")
def sources_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8100,
    data: Annotated[
        Path, typer.Option(help="JSON file, or a folder of <source>.csv files")
    ] = DEFAULT_DATA,
    latency_ms: Annotated[int, typer.Option(min=0, help="Added to lookups")] = 0,
    error_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Share of lookups answered 500")
    ] = 0.0,
    down: Annotated[
        list[SourceName] | None, typer.Option(help="Answer 503 (repeatable)")
    ] = None,
    malformed: Annotated[
        Malformed, typer.Option(help="Answer garbage with status 200")
    ] = Malformed.none,
    token: Annotated[
        str | None,
        typer.Option(envvar="LANTERN_SOURCES_SERVE_TOKEN", help="Bearer required"),
    ] = None,
) -> None:
    """Serve the three source APIs over reference data, with injected faults (see
    docs/sources.md). Base URLs: http://HOST:PORT/youth_justice, /cme and /cse."""
    read_settings(CoreSettings)
    fault = Fault(latency_ms=latency_ms, error_rate=error_rate, malformed=malformed)
    try:
        reference = load_reference_data(data)
    except (ValueError, OSError) as exc:
        typer.echo(f"invalid reference data: {exc}", err=True)
        raise typer.Exit(2) from None
    app = create_reference_app(
        reference, Faults.at_start(fault, down=down or ()), token=token
    )
    sock = listen(host, port, option="--port")
    typer.echo(
        f"serving the reference sources on http://{host}:{port}/"
        "{youth_justice,cme,cse}"
    )
    from services.processes import serve_app

    run_loop(serve_app(app, sock))


@webhooks_app.command("receive")
def webhooks_receive(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 9000,
) -> None:
    """Receive Lantern's webhooks on any path, check their signatures with
    LANTERN_CHANNELS__WEBHOOK__SECRET, and print each message (docs/notifier.md)."""
    secret = read_settings(ReceiverSettings).channels.webhook.secret
    if secret is None:
        raise required("LANTERN_CHANNELS__WEBHOOK__SECRET")
    app = create_receiver_app(secret.get_secret_value(), show=typer.echo)
    sock = listen(host, port, option="--port")
    typer.echo(
        f"receiving webhooks on http://{host}:{port}/ (any path), checking their "
        "signatures with LANTERN_CHANNELS__WEBHOOK__SECRET; the alerts follow"
    )
    from services.processes import serve_app

    run_loop(serve_app(app, sock))


class ReceiverSettings(CoreSettings, ChannelsSettings):
    """The receiver needs the webhook secret only, not a notifier's settings."""
