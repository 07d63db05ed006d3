"""Staff routes of return interviews: record an episode's interview, and list the
interviews by status. Thin: the rules are in interview.py."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path
from sqlalchemy import select

from events.store.sql import SqlEventStore
from services.api.container import Container
from services.api.deps import Deps, Staff
from services.api.errors import Rejected
from services.api.paging import Cursor, Limit, page
from services.api.timeline import TimelineEntry
from services.returns import interview, recording
from services.returns.handlers import interview_stream
from services.returns.schemas import (
    ReturnInterviewPage,
    ReturnInterviewPut,
    ReturnInterviewRead,
    ReturnInterviewSummary,
)
from services.returns.tables import return_interviews
from services.returns.timeline import interview_entries

router = APIRouter(prefix="/v1")
EpisodeId = Annotated[
    uuid.UUID, Path(description="The episode the child returned from")
]


def read_model(i: interview.Interview, recorded: list[str]) -> ReturnInterviewRead:
    o = i.opened
    return ReturnInterviewRead(
        episode_id=o.episode_id,
        la_child_id=o.la_child_id,
        returned_at=o.returned_at,
        due_date=o.due_date,
        due_72h_at=o.due_72h_at,
        deadline=o.deadline,
        overdue_at=o.overdue_at,
        status=i.status,
        superseded_by=i.superseded_by,
        covers=o.covers,
        offered=i.offered_at is not None,
        offered_at=i.offered_at,
        offered_by=i.offered_by,
        accepted=i.accepted,
        completed_at=i.completed_at,
        late=interview.is_late(i),
        reasons=list(i.reasons),
        concerns=list(i.concerns),
        notes=i.notes,
        recorded=recorded,
    )


async def episode_interview(
    store: SqlEventStore, episode_id: uuid.UUID
) -> dict[str, Any] | None:
    """The interview in the staff's view of an episode (services/api/container.py
    ``staff_sections``); None before the return."""
    envelopes = await store.read_stream(interview_stream(episode_id))
    current = interview.fold([e.event for e in envelopes])
    if current is None:
        return None
    return read_model(current, []).model_dump(mode="json", exclude={"recorded"})


async def _load(
    deps: Container, episode_id: uuid.UUID
) -> tuple[interview.Interview, int]:
    try:
        return await recording.current(deps.store, episode_id)
    except recording.NotReturned:
        raise HTTPException(
            404, "no return interview: the child has not returned"
        ) from None


@router.get(
    "/episodes/{episode_id}/return-interview",
    responses={404: {"description": "The child has not returned"}},
    summary="An episode's return interview",
)
async def read_return_interview(
    episode_id: EpisodeId, _: Staff, deps: Deps
) -> ReturnInterviewRead:
    current, _version = await _load(deps, episode_id)
    return read_model(current, [])


@router.put(
    "/episodes/{episode_id}/return-interview",
    responses={
        404: {"description": "The child has not returned"},
        409: {"description": "It would take back a fact already recorded"},
    },
    summary="Record the return interview: offer, answer, completion, reasons",
)
async def record_return_interview(
    episode_id: EpisodeId, body: ReturnInterviewPut, client: Staff, deps: Deps
) -> ReturnInterviewRead:
    try:
        done = await recording.record(
            deps.store, episode_id, body, actor=client.actor, now=deps.now
        )
    except recording.NotReturned:
        raise HTTPException(
            404, "no return interview: the child has not returned"
        ) from None
    except recording.Refused as refused:
        raise Rejected(refused.status, refused.problems) from None
    return read_model(done.interview, done.made)


@router.get("/return-interviews", summary="Return interviews by status, oldest first")
async def list_return_interviews(
    _: Staff,
    deps: Deps,
    status: Literal[
        "due", "overdue", "superseded", "completed", "refused", "all"
    ] = "due",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ReturnInterviewPage:
    query = select(return_interviews)
    if status != "all":
        query = query.where(return_interviews.c.status == status)
    rows, next_cursor = await page(
        deps.store, query, return_interviews.c.opened_position, limit, cursor
    )
    return ReturnInterviewPage(
        items=[ReturnInterviewSummary.model_validate(dict(r)) for r in rows],
        next_cursor=next_cursor,
    )


async def interview_timeline(
    store: SqlEventStore, episode_id: uuid.UUID
) -> list[TimelineEntry]:
    """The interview's events for the episode page (``Container.timeline_sources``)."""
    return interview_entries(await store.read_stream(interview_stream(episode_id)))
