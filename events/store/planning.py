"""Planning a group under the append lock: one read of what its commits depend on, then
each commit checked in memory, in order, and given its rows and positions, so the
lock is held for as few round trips as possible."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, any_, bindparam, cast, func, null, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable

from events.envelope import EventData, NewEvent, utcnow
from events.store import Commit, ConcurrencyError, Recorded
from events.store.notifications import COMMITS_CHANNEL, notice
from events.store.tables import events


@functools.cache
def _plan_query(postgres: bool) -> Executable:
    """What planning a group needs, in one statement; the row's shape says which:
    the top position, each stream's version, the first event ids already stored."""
    no_stream = cast(null(), events.c.stream_id.type)
    no_id = cast(null(), events.c.event_id.type)
    top = select(func.coalesce(func.max(events.c.position), 0)).scalar_subquery()
    head = select(no_stream, top, no_id)
    if postgres:  # the same statement queues the commit notice; after LOCK
        head = head.select_from(
            func.pg_notify(COMMITS_CHANNEL, bindparam("notice")),
            func.set_config("plan_cache_mode", "auto", True),  # as LOCK explains
        )
    return union_all(
        head,
        select(events.c.stream_id, func.max(events.c.stream_version), no_id)
        .where(_one_of(events.c.stream_id, "streams", postgres))
        .group_by(events.c.stream_id),
        select(no_stream, null(), events.c.event_id).where(
            _one_of(events.c.event_id, "ids", postgres)
        ),
    )


def _one_of(column: Any, name: str, postgres: bool) -> Any:
    """``column`` is one of the list passed as ``name``. On PostgreSQL an array
    parameter: one statement, prepared once, where an IN list is rendered anew for
    each length, and prepared again on each connection."""
    if postgres:
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


@dataclass(slots=True)
class Plan:
    """A batch worked out in memory under the lock, before anything is written."""

    versions: dict[str, int]
    stored_ids: set[UUID]
    next_position: int
    rows: list[dict[str, Any]] = field(default_factory=list)


def load_plan(conn: Connection, commits: list[Commit], *, postgres: bool) -> Plan:
    """What planning needs (``_plan_query``), read under the lock in one round trip:
    each one waits behind the busy event loop."""
    appends = [a for c in commits for a in c.appends if a.events]
    params: dict[str, Any] = {
        "streams": list({a.stream_id for a in appends}),
        "ids": [a.events[0].event_id for a in appends],
    }
    if postgres:  # the notice goes out when this transaction commits
        params["notice"] = notice(commits)
    plan = Plan(versions={}, stored_ids=set(), next_position=1)
    rows = conn.execute(_plan_query(postgres), params)
    for stream_id, number, event_id in rows:
        if event_id is not None:
            plan.stored_ids.add(event_id)
        elif stream_id is not None:
            plan.versions[stream_id] = number
        else:
            plan.next_position = number + 1
    return plan


def plan_commit(plan: Plan, commit: Commit) -> Recorded | Exception:
    """Check a commit against the state so far; all its appends land or none do."""
    versions = dict(plan.versions)
    rows: list[dict[str, Any]] = []
    written = 0
    for append in commit.appends:
        if not append.events or append.events[0].event_id in plan.stored_ids:
            continue  # already stored: a redelivery, nothing to do
        current = versions.get(append.stream_id, 0)
        expected = append.expected_version
        if expected is not None and expected != current:
            return ConcurrencyError(append.stream_id, expected, current)
        for offset, new in enumerate(append.events, start=1):
            position = plan.next_position + len(rows)
            rows.append(_row(new, append.stream_id, current + offset, position, commit))
        versions[append.stream_id] = current + len(append.events)
        written += 1
    plan.versions = versions
    plan.rows.extend(rows)
    plan.next_position += len(rows)
    plan.stored_ids.update(a.events[0].event_id for a in commit.appends if a.events)
    touched = {a.stream_id: versions.get(a.stream_id, 0) for a in commit.appends}
    return Recorded(
        versions=touched,
        positions=[r["position"] for r in rows],
        duplicate=written == 0 and any(a.events for a in commit.appends),
    )


def _row(
    new: NewEvent, stream_id: str, version: int, position: int, commit: Commit
) -> dict[str, Any]:
    return {
        "position": position,
        "event_id": new.event_id,
        "stream_id": stream_id,
        "stream_version": version,
        "type": new.event.type_name,
        "schema_version": new.event.schema_version,
        "data": EventData(new.event),
        "occurred_at": new.occurred_at,
        "recorded_at": utcnow(),
        "correlation_id": new.correlation_id or new.event_id,
        "causation_id": new.causation_id,
        "actor": new.actor,
        "trace_context": commit.trace_context,
    }
