"""Frequently missing, pure: the one rule triage weighs an episode by and a child's
history shows. Both figures are a local convention (DOMAIN.md 5.4: "3+ episodes in
90 days" is in no national source), so they live in triage's policy file; the
composition root hands them to the services that need them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class FrequentlyMissing:
    episodes: int = 3
    days: int = 90

    def applies(self, count: int) -> bool:
        """``count``: the child's missing episodes (SSDA903 M; away ones and reports
        withdrawn as made in error are not counted) that started in the ``days``
        days up to the moment in question, the latest included."""
        return count >= self.episodes

    def counted(self, starts: Iterable[datetime], at: datetime) -> int:
        """Of the missing episodes' starts, those in the window ending at ``at``."""
        since = at - timedelta(days=self.days)
        return sum(since <= start <= at for start in starts)
