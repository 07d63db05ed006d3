"""Every event type Lantern records; importing this registers them all."""

from events.contracts import children, missing, recipients, triage

__all__ = ["children", "missing", "recipients", "triage"]
