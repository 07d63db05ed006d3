"""Events of triage: the risk assessment of an episode, and its changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from events.contracts.missing import RiskGrade
from events.registry import Event, Value

# The factor codes that counted as exploitation when v1 was written (the notifier
# read them from triage's rules then). Frozen: history keeps the meaning it had, even
# if triage's rules change.
_V1_EXPLOITATION = frozenset(
    {
        "cse_medium",
        "cse_high",
        "cce",
        "trafficking",
        "gangs",
        "county_lines",
        "criminal_exploitation",
    }
)


class Factor(Value):
    """One reason for the level: what it is, where it came from, what it weighed."""

    code: str
    source: str
    evidence: str
    weight: int
    exploitation: bool
    """An exploitation concern: the police exploitation team is told, and told why."""


class RiskAssessed(Event):
    """v2: each factor says whether it is an exploitation concern, so readers need
    not know triage's rules."""

    schema_version = 2

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

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        factors = [
            {**f, "exploitation": f["code"] in _V1_EXPLOITATION}
            for f in data["factors"]
        ]
        return {**data, "factors": factors}


class RiskReassessed(RiskAssessed):
    """A later assessment that changed the level or what it rests on (v2 as
    ``RiskAssessed``)."""

    previous_level: RiskGrade
    added: list[str]
    removed: list[str]


class FrequentlyMissingCrossed(Event):
    """With this episode the child's missing episodes in the policy's window reached
    its threshold from below (3 in 90 days by default, DOMAIN.md 5.4): a strategy
    discussion is due. Recorded once per crossing, on the episode that crossed; the
    child crosses again only after the count has fallen below. Away episodes and
    reports withdrawn as made in error are not counted, as in the assessment."""

    episode_id: UUID
    la_child_id: str | None = None
    episodes: int
    """Missing episodes in the window, this one included."""
    days: int
    threshold: int
    crossed_at: datetime
