"""Every event type Lantern records; importing this registers them all."""

from events.contracts import children, missing, triage

__all__ = ["children", "missing", "triage"]
