"""The return interview's deadlines, pure: when it is due, when it is overdue, and
when a new episode supersedes it.

Both deadlines are computed and shown (DOMAIN.md §6: "model both and make the rule
explicit"); which one the council enforces is a setting (``Deadline``), recorded on
each interview when it opens, so a later change of setting does not rewrite history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from events.calendar import LONDON, end_of_day, working_day_after
from events.contracts.returns import Deadline

WORKING_DAYS = 3
"""Offered within 3 working days of the return: the council's policy in the source
document (§5.1), DOMAIN.md §9 rule 13."""
HOURS = timedelta(hours=72)
"""Within 72 hours of the return: DfE statutory guidance 2014, DOMAIN.md §9 rule 12."""


@dataclass(frozen=True)
class Due:
    due_date: date
    """The 3rd working day after the return's London date (rule 13)."""
    due_72h_at: datetime
    """The return plus 72 elapsed hours (rule 12)."""
    deadline: Deadline
    overdue_at: datetime
    """When the enforced deadline has passed: the end of ``due_date`` in London, or
    ``due_72h_at``."""


def due_date(returned_at: datetime) -> date:
    # Rule 13: the return's own day is not counted; weekends and England and Wales
    # bank holidays are skipped. The day is the London calendar day of the return.
    return working_day_after(returned_at.astimezone(LONDON).date(), WORKING_DAYS)


def due_72h_at(returned_at: datetime) -> datetime:
    # Rule 12: 72 elapsed hours, an exact instant. Across a clock change the London
    # wall clock shows one hour more or less than the return's (18:00 -> 19:00 BST).
    # In UTC: Python adds a timedelta to a London time on the wall clock instead.
    return returned_at.astimezone(UTC) + HOURS


__all__ = ["Deadline", "Due", "due", "due_72h_at", "due_date", "supersedes"]


def due(returned_at: datetime, deadline: Deadline) -> Due:
    day, hours = due_date(returned_at), due_72h_at(returned_at)
    overdue = end_of_day(day) if deadline is Deadline.working_days else hours
    return Due(day, hours, deadline, overdue)


def supersedes(missing_since: datetime, returned_at: datetime, due: Due) -> bool:
    """A new episode supersedes the interview when the child goes missing again
    after the return and on or before the enforced deadline (source document §5.1:
    "not always possible if a child goes missing again within 3 working days";
    DOMAIN.md §9 rule 14: one interview may then cover several episodes)."""
    return returned_at <= missing_since < due.overdue_at
