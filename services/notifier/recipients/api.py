"""The recipients API, for integrators: the notifier's directory, entry by entry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response

from events.contracts.recipients import RecipientRecorded
from events.store import Reads
from services.api.deps import Deps, Integrator
from services.api.errors import Rejected
from services.api.openapi import Problems
from services.notifier.recipients.entries import RECIPIENT_ID, checked, clashes
from services.notifier.recipients.projector import (
    SlotTakenError,
    list_recipients,
    record,
    remove,
)
from services.notifier.recipients.schemas import RecipientPut
from services.records.authorities import la_codes

router = APIRouter(prefix="/v1", tags=["recipients"])
RecipientId = Annotated[
    str, Path(pattern=RECIPIENT_ID, description="The council's own id for them")
]
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Recorded: an update, or nothing when it was so already"},
    201: {"model": RecipientRecorded, "description": "Recorded: a new recipient"},
    409: {
        "model": Problems,
        "description": "Another recipient holds that place; the body names it",
    },
}


@router.put(
    "/recipients/{recipient_id}",
    responses=RESPONSES,
    summary="Record a recipient in the notifier's directory",
)
async def put_recipient(
    recipient_id: RecipientId,
    body: RecipientPut,
    client: Integrator,
    deps: Deps,
    response: Response,
) -> RecipientRecorded:
    entry, problems = checked(
        RecipientRecorded(recipient_id=recipient_id, **body.model_dump()),
        la_codes(),
        deps.webhook_hosts,
    )
    if problems:
        raise Rejected(422, problems)
    before = await _refuse_clash(deps.store, entry)
    if entry == before:
        return entry
    try:
        await record(deps.store, [entry], actor=client.actor)
    except SlotTakenError:  # taken since we looked: say by whom
        await _refuse_clash(deps.store, entry)
        raise
    response.status_code = 201 if before is None else 200
    return entry


async def _refuse_clash(
    reads: Reads, entry: RecipientRecorded
) -> RecipientRecorded | None:
    """The recipient's entry as it stands; 409 if another recipient holds the place."""
    existing = await list_recipients(reads)
    if found := clashes(existing, [entry]):
        raise Rejected(409, [problem for _, problem in found])
    return next((e for e in existing if e.recipient_id == entry.recipient_id), None)


@router.get("/recipients", summary="The notifier's directory, in routing's order")
async def get_recipients(_: Integrator, deps: Deps) -> list[RecipientRecorded]:
    return await list_recipients(deps.store)


@router.delete(
    "/recipients/{recipient_id}",
    status_code=204,
    responses={404: {"description": "No such recipient"}},
    summary="Remove a recipient from the notifier's directory",
)
async def delete_recipient(
    recipient_id: RecipientId, client: Integrator, deps: Deps
) -> None:
    if not await remove(deps.store, recipient_id, actor=client.actor):
        raise HTTPException(404, "recipient not found")
