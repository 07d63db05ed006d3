"""Events of triage: the risk assessment of an episode, and its changes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.contracts.missing import RiskGrade
from events.registry import Event, Value


class Factor(Value):
    """One reason for the level: what it is, where it came from, what it weighed."""

    code: str
    source: str
    evidence: str
    weight: int


class RiskAssessed(Event):
    episode_id: UUID
    level: RiskGrade
    score: int
    factors: list[Factor]
    actions: list[str]
    sources_answered: list[str]
    sources_missing: list[str]
    policy_version: str
    assessed_at: datetime
    trigger: str
    next_review_at: datetime | None = None


class RiskReassessed(RiskAssessed):
    """A later assessment that changed the level or what it rests on."""

    previous_level: RiskGrade
    added: list[str]
    removed: list[str]
