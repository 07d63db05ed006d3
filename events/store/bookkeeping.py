"""What a group writes beside its events: the subscribers' checkpoints and their parked
messages, set aside or resolved, in the same transaction, so they land with the
events a subscriber appended or not at all."""

from __future__ import annotations

import functools

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable

from events.envelope import utcnow
from events.store import Checkpoint, Commit
from events.store.parking import park, resolve
from events.store.tables import checkpoints


@functools.cache
def _checkpoints_upsert(postgres: bool) -> Executable:
    """Checkpoints only move forward, so a late redelivery cannot rewind one."""
    stmt = (pg_insert if postgres else sqlite_insert)(checkpoints)
    forward = (func.greatest if postgres else func.max)(
        checkpoints.c.position, stmt.excluded.position
    )
    return stmt.on_conflict_do_update(
        index_elements=["subscriber", "partition"],
        set_={"position": forward, "updated_at": stmt.excluded.updated_at},
    )


def write_bookkeeping(
    conn: Connection, commits: list[Commit], *, postgres: bool
) -> None:
    """A group's checkpoints in one statement, the furthest per subscriber and
    partition: most commits carry one, and a statement each would be most of
    the transaction."""
    furthest: dict[tuple[str, str], Checkpoint] = {}
    for cp in (c.checkpoint for c in commits if c.checkpoint is not None):
        key = (cp.subscriber, cp.partition)
        if key not in furthest or cp.position > furthest[key].position:
            furthest[key] = cp
    if furthest:
        _save_checkpoints(conn, list(furthest.values()), postgres=postgres)
    for commit in commits:
        if commit.park is not None:
            park(conn, commit.park, postgres=postgres)
        if commit.resolve_parked is not None:
            resolve(conn, commit.resolve_parked)


def _save_checkpoints(
    conn: Connection, cps: list[Checkpoint], *, postgres: bool
) -> None:
    now = utcnow()
    conn.execute(
        _checkpoints_upsert(postgres),
        [
            {
                "subscriber": cp.subscriber,
                "partition": cp.partition,
                "position": cp.position,
                "updated_at": now,
            }
            for cp in cps
        ],
    )
