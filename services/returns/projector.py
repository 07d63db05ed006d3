"""Keeps the return interviews read model from the interview events. Its status is
derived from what was recorded (``status_of``), so the order facts arrive in does not
matter: a completed interview stays completed when an overdue notice follows it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from events.contracts.returns import (
    ReturnInterviewAccepted,
    ReturnInterviewCompleted,
    ReturnInterviewOpened,
    ReturnInterviewOverdue,
    ReturnInterviewRefused,
    ReturnInterviewRescheduled,
    ReturnInterviewSuperseded,
)
from events.envelope import Envelope
from services.records.tables import episodes
from services.returns.interview import status_of
from services.returns.tables import return_interviews

_STATE = ("superseded_by", "accepted", "overdue", "completed_at")
_DEADLINES = ("returned_at", "due_date", "due_72h_at", "overdue_at")
TYPES = {
    cls.type_name
    for cls in (
        ReturnInterviewOpened,
        ReturnInterviewSuperseded,
        ReturnInterviewAccepted,
        ReturnInterviewRefused,
        ReturnInterviewCompleted,
        ReturnInterviewOverdue,
        ReturnInterviewRescheduled,
    )
}


class ReturnInterviewsProjector:
    """Per batch: the rows it touches read in one query, changed in memory, written
    in one insert and one update (a history import brings thousands at once)."""

    tables: Sequence[Table] = (return_interviews,)

    def apply(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        mine = [e for e in envelopes if e.type in TYPES]
        if not mine:
            return
        opened = {
            _episode_id(e): e for e in mine if e.type == ReturnInterviewOpened.type_name
        }
        new = _opened_rows(conn, list(opened.values()))
        others = {_episode_id(e) for e in mine} - new.keys()
        stored = _stored_rows(conn, others)
        for envelope in mine:
            if envelope.type == ReturnInterviewOpened.type_name:
                continue
            row = new.get(_episode_id(envelope)) or stored.get(_episode_id(envelope))
            if row is not None:
                row.update(_values(envelope, row), updated_at=envelope.recorded_at)
                row["status"] = status_of(**{c: row[c] for c in _STATE})
                row["changed"] = True
        if new:
            conn.execute(insert(return_interviews), [_without(r) for r in new.values()])
        changed = [_bound(r) for r in stored.values() if r.get("changed")]
        if changed:
            conn.execute(UPDATE, changed)


def _episode_id(envelope: Envelope) -> UUID:
    return UUID(str(envelope.data["episode_id"]))


def _without(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "changed"}


_KEPT = (*_STATE, *_DEADLINES, "late", "status", "updated_at")
UPDATE = (
    update(return_interviews)
    .where(return_interviews.c.episode_id == bindparam("v_episode_id"))
    .values(**{c: bindparam(f"v_{c}") for c in _KEPT})
)


def _bound(row: dict[str, Any]) -> dict[str, Any]:
    return {f"v_{c}": row[c] for c in ("episode_id", *_KEPT)}


def _stored_rows(conn: Connection, ids: set[UUID]) -> dict[UUID, dict[str, Any]]:
    if not ids:
        return {}
    query = select(
        return_interviews.c.episode_id, *(return_interviews.c[c] for c in _KEPT)
    ).where(return_interviews.c.episode_id.in_(bindparam("ids", expanding=True)))
    return {r.episode_id: r._asdict() for r in conn.execute(query, {"ids": list(ids)})}


def _opened_rows(
    conn: Connection, opened: list[Envelope]
) -> dict[UUID, dict[str, Any]]:
    if not opened:
        return {}
    query = select(episodes.c.episode_id, episodes.c.child_key).where(
        episodes.c.episode_id.in_(bindparam("ids", expanding=True))
    )
    ids = [_episode_id(e) for e in opened]
    keys = {row[0]: row[1] for row in conn.execute(query, {"ids": ids})}
    return {_episode_id(e): _opened(e, keys.get(_episode_id(e))) for e in opened}


def _opened(envelope: Envelope, child_key: str | None) -> dict[str, Any]:
    opened = cast(ReturnInterviewOpened, envelope.event)
    return {
        "episode_id": opened.episode_id,
        "la_child_id": opened.la_child_id,
        "child_key": child_key or f"episode:{opened.episode_id}",
        "returned_at": opened.returned_at,
        "due_date": opened.due_date,
        "due_72h_at": opened.due_72h_at,
        "deadline": opened.deadline,
        "overdue_at": opened.overdue_at,
        "status": "due",
        "superseded_by": None,
        "accepted": None,
        "overdue": False,
        "completed_at": None,
        "late": False,
        "opened_position": envelope.position,
        "updated_at": envelope.recorded_at,
    }


def _values(envelope: Envelope, row: dict[str, Any]) -> dict[str, Any]:
    event = envelope.event
    if isinstance(event, ReturnInterviewRescheduled):
        completed_at = row["completed_at"]
        return {
            **{c: getattr(event, c) for c in _DEADLINES},
            "overdue": False,
            "late": completed_at is not None and completed_at >= event.overdue_at,
        }
    if isinstance(event, ReturnInterviewSuperseded):
        return {"superseded_by": event.by_episode_id}
    if isinstance(event, ReturnInterviewAccepted):
        return {"accepted": True}
    if isinstance(event, ReturnInterviewRefused):
        return {"accepted": False}
    if isinstance(event, ReturnInterviewCompleted):
        return {"completed_at": event.completed_at, "late": event.late}
    return {"overdue": True}  # ReturnInterviewOverdue
