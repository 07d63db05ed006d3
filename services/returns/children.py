"""Staff routes about a child: record a Missing Family Group Conference, and read
the child's history (history.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response

from events.calendar import LONDON
from events.contracts.children import FamilyGroupConferenceRecorded
from events.envelope import NewEvent
from events.store import ConcurrencyError
from events.streams import Category, stream_name
from services.api.container import Container
from services.api.deps import Deps, Staff
from services.api.errors import Rejected
from services.api.schemas import CHILD_ID
from services.records.children import child_record
from services.returns.history import child_history, conferences_in
from services.returns.schemas import (
    ChildHistory,
    FamilyGroupConferenceAccepted,
    FamilyGroupConferenceCreate,
)

router = APIRouter(prefix="/v1")
ChildId = Annotated[str, Path(pattern=CHILD_ID, description="The council's own id")]
UNKNOWN: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such child in the children's records"}
}


async def _known(deps: Container, la_child_id: str) -> None:
    if await child_record(deps.store, la_child_id) is None:
        raise HTTPException(404, "no such child in the children's records")


@router.post(
    "/children/{la_child_id}/family-group-conferences",
    status_code=201,
    responses={
        **UNKNOWN,
        200: {
            "model": FamilyGroupConferenceAccepted,
            "description": "Already recorded: nothing new",
        },
    },
    summary="Record a Missing Family Group Conference held for a child",
)
async def record_conference(
    la_child_id: ChildId,
    body: FamilyGroupConferenceCreate,
    client: Staff,
    deps: Deps,
    response: Response,
) -> FamilyGroupConferenceAccepted:
    if body.held_on > deps.now().astimezone(LONDON).date():
        raise Rejected(422, [("held_on", "is in the future")])
    await _known(deps, la_child_id)
    stream = stream_name(Category.child, la_child_id)
    event = FamilyGroupConferenceRecorded(la_child_id=la_child_id, held_on=body.held_on)
    while True:
        recorded = await deps.store.read_stream(stream)
        if body.held_on in conferences_in(recorded):
            response.status_code = 200
            return FamilyGroupConferenceAccepted(
                la_child_id=la_child_id, held_on=body.held_on, recorded=[]
            )
        try:
            await deps.store.append(
                stream,
                [NewEvent(event=event, actor=client.actor)],
                expected_version=len(recorded),
            )
        except ConcurrencyError:
            continue  # another record of the child came first: look again
        return FamilyGroupConferenceAccepted(
            la_child_id=la_child_id, held_on=body.held_on, recorded=[event.type_name]
        )


@router.get(
    "/children/{la_child_id}/history",
    responses=UNKNOWN,
    summary="A child's episodes, return interviews and Family Group Conferences",
)
async def read_history(la_child_id: ChildId, _: Staff, deps: Deps) -> ChildHistory:
    await _known(deps, la_child_id)
    return await child_history(
        deps.store,
        la_child_id,
        now=deps.now(),
        frequently_missing=deps.frequently_missing,
    )
