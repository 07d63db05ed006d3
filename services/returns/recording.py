"""Recording a return interview: the one command behind the API's
``PUT /v1/episodes/{id}/return-interview`` and the staff's form. Its refusals are
interview.py's rules, each naming its field; nothing is recorded when any is found."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from events.envelope import NewEvent
from events.store import ConcurrencyError
from events.store.sql import SqlEventStore
from services.returns import interview
from services.returns.handlers import interview_stream
from services.returns.schemas import ReturnInterviewPut


class NotReturned(Exception):
    """No interview: the child has not returned (404)."""


class Refused(Exception):
    """422 (what no interview could be) or 409 (it would take back a recorded
    fact): the problems, each ``(field, reason)``; nothing recorded."""

    def __init__(self, status: int, problems: Sequence[interview.Problem]) -> None:
        super().__init__(status, problems)
        self.status = status
        self.problems = list(problems)


@dataclass(frozen=True)
class Recorded:
    interview: interview.Interview
    made: list[str]
    """The event types appended; [] for a repeat."""


def record_of(body: ReturnInterviewPut) -> interview.Record:
    return interview.Record(
        offered=body.offered,
        offered_at=body.offered_at,
        offered_by=body.offered_by,
        accepted=body.accepted,
        completed_at=body.completed_at,
        reasons=tuple(body.reasons),
        concerns=tuple(body.concerns),
        notes=body.notes,
    )


async def current(
    store: SqlEventStore, episode_id: UUID
) -> tuple[interview.Interview, int]:
    """The interview as recorded, and its stream's version; NotReturned if none."""
    envelopes = await store.read_stream(interview_stream(episode_id))
    found = interview.fold([e.event for e in envelopes])
    if found is None:
        raise NotReturned
    return found, len(envelopes)


async def record(
    store: SqlEventStore,
    episode_id: UUID,
    body: ReturnInterviewPut,
    *,
    actor: str,
    now: Callable[[], datetime],
) -> Recorded:
    """Each part of ``body`` that differs from what is recorded, as its own event
    by ``actor``; Refused (and nothing recorded) when a rule says no."""
    wanted = record_of(body)
    while True:
        before, version = await current(store, episode_id)
        at = now()
        if problems := interview.problems(wanted, before, at):
            raise Refused(422, problems)
        if conflicts := interview.conflicts(wanted, before):
            raise Refused(409, conflicts)
        made = interview.changes(wanted, before, at)
        if not made:
            return Recorded(before, [])
        try:
            await store.append(
                interview_stream(episode_id),
                [NewEvent(event=e, actor=actor) for e in made],
                expected_version=version,
            )
        except ConcurrencyError:
            continue  # another writer got there first: decide again
        after, _ = await current(store, episode_id)
        return Recorded(after, [e.type_name for e in made])
