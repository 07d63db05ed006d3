"""The `lantern` command: it parses commands and calls them; processes are composed
in services/processes.py, and each command group lives in a module of its own."""

from __future__ import annotations

import typer

from services.cli import (
    admin,
    audit,
    exports,
    history,
    people,
    processes,
    reports,
    tools,
    users,
)

app = typer.Typer(
    help="Lantern: notifications and risk triage for children missing from care.",
    no_args_is_help=True,
    add_completion=False,
)
for name, command in {
    "run": processes.run,
    "intake": processes.intake,
    "triage": processes.triage,
    "notifier": processes.notifier,
    "returns": processes.returns,
    "subscriptions": processes.subscriptions,
    "relay": processes.relay,
    "audit": audit.audit,
}.items():
    app.command(name)(command)
for name, group in {
    "db": admin.db_app,
    "clients": admin.clients_app,
    "users": users.users_app,
    "children": people.children_app,
    "history": history.history_app,
    "recipients": people.recipients_app,
    "projections": admin.projections_app,
    "events": admin.events_app,
    "parked": admin.parked_app,
    "policy": admin.policy_app,
    "sources": tools.sources_app,
    "webhooks": tools.webhooks_app,
    "report": reports.report_app,
    "export": exports.export_app,
    "validate": exports.validate_app,
}.items():
    app.add_typer(group, name=name)


def main() -> None:
    app()
