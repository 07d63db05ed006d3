"""The past, as a council brings it when it adopts Lantern (``lantern history
import``): recorded with its own times, like any event, but not news. Services that
act on news — assessing risk, alerting, recording an interview overdue — leave
events of the history alone; read models take them like any other."""

from __future__ import annotations

from events.envelope import Envelope

ACTOR_PREFIX = "history:"
"""The actor of every event a history import records: ``history:<folder name>``."""


def history_actor(source: str) -> str:
    return f"{ACTOR_PREFIX}{source}"


def is_history(envelope: Envelope) -> bool:
    return envelope.actor.startswith(ACTOR_PREFIX)
