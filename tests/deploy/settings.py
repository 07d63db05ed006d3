"""What the deploy files are checked against: the settings Lantern reads (from its
pydantic settings classes), the secret ones among them, and the commands it has."""

from __future__ import annotations

from pydantic import BaseModel

from services.cli import app
from services.processes import RunSettings


def _fields(model: type[BaseModel], prefix: str) -> dict[str, object]:
    """Every variable a settings class reads, nested models spelt with `__`."""
    names: dict[str, object] = {}
    for name, field in model.model_fields.items():
        variable = f"{prefix}{name.upper()}"
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            names |= _fields(kind, variable + "__")
        else:
            names[variable] = kind
    return names


# `lantern run` reads every service's settings, so its class names them all.
READ = _fields(RunSettings, "LANTERN_")
KNOWN = set(READ)
SECRET = {name for name, kind in READ.items() if "SecretStr" in str(kind)} | {
    "LANTERN_DATABASE_URL"  # it holds the database password
}


def commands() -> set[tuple[str, ...]]:
    """Every `lantern` command, as its words: ("triage",), ("db", "upgrade")."""
    found: set[tuple[str, ...]] = {(c.name,) for c in app.registered_commands if c.name}
    for group in app.registered_groups:
        assert group.typer_instance is not None and group.name is not None
        found |= {
            (group.name, c.name or c.callback.__name__.replace("_", "-"))
            for c in group.typer_instance.registered_commands
            if c.callback is not None
        }
    return found
