"""Children who frequently go missing, now: the children whose missing episodes in
the policy's window (``FrequentlyMissing``: N episodes in D days, the latest
included) reach its threshold, each with the episodes of the window; and the
strategy-discussion prompts nobody has acted on yet (the notifier's open alerts,
through ``Container.open_alerts``).

Read from the shared episodes read model (what triage and the children's histories
count), and each child's latest report for the name and date of birth as the
police gave them. Away episodes are listed but not counted; a report withdrawn as
made in error was never an episode."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select

from events.contracts.missing import (
    EpisodeType,
    MissingReported,
    WithdrawalReason,
)
from events.store.sql import SqlEventStore
from events.streams import Category, stream_name
from services.records.frequency import FrequentlyMissing
from services.records.tables import episodes

WINDOW = (
    select(
        episodes.c.episode_id,
        episodes.c.child_key,
        episodes.c.episode_type,
        episodes.c.status,
        episodes.c.missing_since,
    )
    .where(
        episodes.c.missing_since >= bindparam("since"),
        episodes.c.missing_since <= bindparam("until"),
        episodes.c.withdrawal_reason.is_(None)
        | (episodes.c.withdrawal_reason != WithdrawalReason.reported_in_error),
    )
    .order_by(episodes.c.child_key, episodes.c.missing_since)
)


@dataclass(frozen=True)
class Episode:
    episode_id: UUID
    episode_type: str
    status: str
    missing_since: datetime


@dataclass(frozen=True)
class Child:
    child_key: str
    episodes: list[Episode]
    missing: int
    """The missing episodes counted: away ones are not."""
    name: str = ""
    date_of_birth: date | None = None


def over_threshold(
    rows: Iterable[Mapping[str, Any]], rule: FrequentlyMissing, now: datetime
) -> list[Child]:
    """Pure: the window's episodes grouped by child, the children at or over the
    threshold, most episodes first."""
    by_child: dict[str, list[Episode]] = {}
    for row in rows:
        by_child.setdefault(row["child_key"], []).append(
            Episode(
                row["episode_id"], row["episode_type"], row["status"],
                row["missing_since"],
            )
        )  # fmt: skip
    children = []
    for key, listed in by_child.items():
        counted = rule.counted(
            (e.missing_since for e in listed if e.episode_type == EpisodeType.missing),
            now,
        )
        if rule.applies(counted):
            children.append(Child(key, listed, counted))
    return sorted(children, key=lambda c: (-c.missing, c.child_key))


async def frequently_missing_now(
    store: SqlEventStore, rule: FrequentlyMissing, now: datetime
) -> list[Child]:
    since = now - timedelta(days=rule.days)
    rows = await store.select(WINDOW, {"since": since, "until": now})
    children = over_threshold([dict(r._mapping) for r in rows], rule, now)
    return [await _named(store, child) for child in children]


async def _named(store: SqlEventStore, child: Child) -> Child:
    report = await report_of(store, child.episodes[-1].episode_id)
    if report is None:
        return child
    return Child(
        child.child_key, child.episodes, child.missing,
        f"{report.child.given_name} {report.child.family_name}",
        report.child.date_of_birth,
    )  # fmt: skip


async def report_of(store: SqlEventStore, episode_id: UUID) -> MissingReported | None:
    stream = await store.read_stream(
        stream_name(Category.episode, episode_id), after_version=0
    )
    first = stream[0].event if stream else None
    return first if isinstance(first, MissingReported) else None


def newest_first(listed: Sequence[Episode]) -> list[Episode]:
    return sorted(listed, key=lambda e: e.missing_since, reverse=True)
