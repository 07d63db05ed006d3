"""Keeps the return interviews read model from the interview events. Its status is
derived from what was recorded (``status_of``), so the order facts arrive in does not
matter: a completed interview stays completed when an overdue notice follows it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, insert, select, update
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
    tables: Sequence[Table] = (return_interviews,)

    def apply(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            if envelope.type not in TYPES:
                continue
            if envelope.type == ReturnInterviewOpened.type_name:
                conn.execute(insert(return_interviews), _opened(conn, envelope))
            else:
                _change(conn, envelope)


def _opened(conn: Connection, envelope: Envelope) -> dict[str, object]:
    opened = cast(ReturnInterviewOpened, envelope.event)
    child_key = conn.execute(
        select(episodes.c.child_key).where(episodes.c.episode_id == opened.episode_id)
    ).scalar()
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
        "accepted": None,
        "overdue": False,
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


def _change(conn: Connection, envelope: Envelope) -> None:
    episode_id = UUID(str(envelope.data["episode_id"]))
    where = return_interviews.c.episode_id == episode_id
    row = conn.execute(
        select(*(return_interviews.c[c] for c in _STATE)).where(where)
    ).one_or_none()
    if row is None:
        return
    values = {**row._asdict(), **_values(envelope, row._asdict())}
    conn.execute(
        update(return_interviews)
        .where(where)
        .values(
            **values,
            status=status_of(**{c: values[c] for c in _STATE}),
            updated_at=envelope.recorded_at,
        )
    )
