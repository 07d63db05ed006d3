"""The police-facing API, v1: thin routes over the pure decisions in decide.py. Council
staff may reclassify an episode too (missing or away), as the police may, read any
episode with the parts only staff see, and correct an episode after the fact."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, cast

import structlog
from fastapi import (
    APIRouter,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
)
from sqlalchemy import select

from events.contracts.children import ChildRecorded
from events.contracts.triage import RiskAssessed, RiskReassessed
from events.envelope import Envelope, NewEvent
from events.ids import derive_id
from events.registry import Event
from events.store import ConcurrencyError
from events.streams import Category, stream_name
from services.api.audit import about
from services.api.auth import ApiClient, Role
from services.api.container import Container
from services.api.deps import Deps, Integrator, Manager, OnCall, Police, Staff
from services.api.errors import Rejected
from services.api.openapi import Conflict, Problems
from services.api.paging import Cursor, Limit, page
from services.api.schemas import CHILD_ID
from services.intake import decide
from services.intake.care_periods import care_period_problems
from services.intake.schemas import (
    AcknowledgementRead,
    ChildRecordPut,
    EpisodeAccepted,
    EpisodeCorrection,
    EpisodePage,
    EpisodeRead,
    EpisodeSummary,
    EpisodeUpdate,
    FoundReport,
    MissingReportCreate,
    Reclassification,
    RiskSummary,
    TimelineEntry,
    Withdrawal,
)
from services.intake.validation import (
    correction_problems,
    found_problems,
    report_problems,
    update_problems,
)
from services.records.authorities import la_codes
from services.records.children import child_record
from services.records.episodes import roles_alerted
from services.records.erasure import erase_child
from services.records.tables import episodes

router = APIRouter(prefix="/v1")

EpisodeId = Annotated[uuid.UUID, Path(description="From the 202 of the missing report")]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100, description="Repeat-safe updates"),
]
Responses = dict[int | str, dict[str, Any]]
CONFLICT: Responses = {
    409: {
        "model": Conflict,
        "description": "Conflicts with what is recorded; the body says why",
    }
}
NOT_FOUND: Responses = {404: {"description": "No such episode for this force"}}
REPEAT: Responses = {
    200: {"model": EpisodeAccepted, "description": "Already recorded: nothing new"}
}


async def _load(deps: Container, episode_id: uuid.UUID) -> tuple[list[Envelope], int]:
    envelopes = await deps.store.read_stream(stream_name(Category.episode, episode_id))
    return envelopes, len(envelopes)


def _visible(envelopes: Sequence[Envelope], client: ApiClient) -> decide.Episode:
    """To the police, another force's episode is a 404, indistinguishable from a
    missing one; council staff see every episode."""
    episode = decide.fold([e.event for e in envelopes])
    other_force = (
        client.role is Role.police
        and episode is not None
        and episode.report.police_force != client.police_force
    )
    if episode is None or other_force:
        raise HTTPException(404, "episode not found")
    return episode


async def _record(
    deps: Container,
    response: Response,
    client: ApiClient,
    episode_id: uuid.UUID,
    decision: decide.Decision,
    *,
    version: int,
    ids: Sequence[object],
    status: str = "open",
) -> EpisodeAccepted | None:
    """Append what was decided; None means a concurrent writer won: decide again."""
    if isinstance(decision, decide.Conflict):
        raise HTTPException(
            409, {"reason": decision.reason, "fields": list(decision.fields)}
        )
    if isinstance(decision, decide.Repeat):
        response.status_code = 200
        return EpisodeAccepted(episode_id=episode_id, status=status)
    correlation = structlog.contextvars.get_contextvars().get("correlation_id")
    new = [
        NewEvent(
            event=event,
            event_id=derive_id(*ids, index) if ids else uuid.uuid4(),
            actor=client.actor,
            correlation_id=uuid.UUID(correlation) if correlation else None,
        )
        for index, event in enumerate(decision)
    ]
    try:
        recorded = await deps.store.append(
            stream_name(Category.episode, episode_id), new, expected_version=version
        )
    except ConcurrencyError:
        return None
    if recorded.duplicate:
        return None
    return EpisodeAccepted(
        episode_id=episode_id,
        status=_status_after(decision, status),
        recorded=_types(decision),
    )


def _types(events: Sequence[Event]) -> list[str]:
    return [e.type_name for e in events]


def _status_after(events: Sequence[Event], status: str) -> str:
    closing = {"ChildFound": "found", "ReportWithdrawn": "withdrawn"}
    return next((closing[t] for t in _types(events) if t in closing), status)


@router.post(
    "/missing-reports",
    status_code=202,
    responses={
        **REPEAT,
        **CONFLICT,
        403: {"model": Problems, "description": "A report for another force"},
    },
    summary="Report a child missing",
)
async def report_missing(
    body: MissingReportCreate,
    client: Police,
    deps: Deps,
    request: Request,
    response: Response,
) -> EpisodeAccepted:
    if body.police_force != client.police_force:
        raise Rejected(
            403, [("police_force", "is not the force this client reports for")]
        )
    if problems := report_problems(body, deps.now(), la_codes()):
        raise Rejected(422, problems)
    episode_id = decide.episode_id_for(body.police_force, body.police_reference)
    match = await deps.children.match(body.child)
    about(request, episode_id=episode_id, la_child_id=match.la_child_id)
    existing, version = None, 0  # most reports are new: try that before reading
    while True:
        decision = decide.report_missing(body, match=match, existing=existing)
        accepted = await _record(
            deps, response, client, episode_id, decision,
            version=version, ids=("report", episode_id),
            status=existing.status if existing else "open",
        )  # fmt: skip
        if accepted:
            response.headers["Location"] = f"/v1/episodes/{episode_id}"
            return accepted
        envelopes, version = await _load(deps, episode_id)
        existing = decide.fold([e.event for e in envelopes])


@router.post(
    "/episodes/{episode_id}/updates",
    status_code=202,
    responses={**REPEAT, **CONFLICT, **NOT_FOUND},
    summary="New information: risk grade, a sighting, circumstances",
)
async def update_episode(
    episode_id: EpisodeId,
    body: EpisodeUpdate,
    client: Police,
    deps: Deps,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> EpisodeAccepted:
    ids = (
        ("update", episode_id, client.name, idempotency_key) if idempotency_key else ()
    )

    def decision(episode: decide.Episode, seen: set[uuid.UUID]) -> decide.Decision:
        problems = update_problems(body, episode.report.missing_since, deps.now())
        if problems:
            raise Rejected(422, problems)
        if ids and derive_id(*ids, 0) in seen:
            return decide.Repeat()
        return decide.update_episode(body, episode) or decide.Repeat()

    return await _command(deps, response, client, episode_id, decision, ids=ids)


@router.post(
    "/episodes/{episode_id}/found",
    status_code=202,
    responses={**REPEAT, **CONFLICT, **NOT_FOUND},
    summary="The child was found or returned",
)
async def record_found(
    episode_id: EpisodeId,
    body: FoundReport,
    client: Police,
    deps: Deps,
    response: Response,
) -> EpisodeAccepted:
    def decision(episode: decide.Episode, _: set[uuid.UUID]) -> decide.Decision:
        if problems := found_problems(body, episode.report.missing_since, deps.now()):
            raise Rejected(422, problems)
        return decide.record_found(body, episode)

    ids = ("found", episode_id)
    return await _command(deps, response, client, episode_id, decision, ids=ids)


@router.post(
    "/episodes/{episode_id}/withdrawal",
    status_code=202,
    responses={**REPEAT, **CONFLICT, **NOT_FOUND},
    summary="Withdraw a report made in error, or cancelled",
)
async def withdraw(
    episode_id: EpisodeId,
    body: Withdrawal,
    client: Police,
    deps: Deps,
    response: Response,
) -> EpisodeAccepted:
    def decision(episode: decide.Episode, _: set[uuid.UUID]) -> decide.Decision:
        return decide.withdraw(body, episode, deps.now())

    ids = ("withdrawal", episode_id)
    return await _command(deps, response, client, episode_id, decision, ids=ids)


@router.post(
    "/episodes/{episode_id}/reclassification",
    status_code=202,
    responses={**REPEAT, **CONFLICT, **NOT_FOUND},
    summary="Missing or away: whereabouts unknown (SSDA903 M) or known (A), and why",
)
async def reclassify(
    episode_id: EpisodeId,
    body: Reclassification,
    client: OnCall,
    deps: Deps,
    response: Response,
) -> EpisodeAccepted:
    """The police, or council staff (a `staff` client), for any episode."""
    role: Literal["police", "staff"] = (
        "police" if client.role is Role.police else "staff"
    )

    def decision(episode: decide.Episode, _: set[uuid.UUID]) -> decide.Decision:
        return decide.reclassify(
            body, episode, by=client.actor, role=role, now=deps.now()
        )

    return await _command(deps, response, client, episode_id, decision, ids=())


@router.patch(
    "/episodes/{episode_id}",
    status_code=202,
    responses={**REPEAT, **CONFLICT, **NOT_FOUND},
    summary="Correct an episode after the fact: its type, the return time (staff)",
)
async def correct_episode(
    episode_id: EpisodeId,
    body: EpisodeCorrection,
    client: Staff,
    deps: Deps,
    response: Response,
) -> EpisodeAccepted:
    """Closed episodes too. Each change is its own event, with who made it and why;
    the same values again record nothing (200). The return interview's deadlines
    follow a corrected return time."""

    def decision(episode: decide.Episode, _: set[uuid.UUID]) -> decide.Decision:
        now = deps.now()
        problems = correction_problems(body, episode.report.missing_since, now)
        if problems:
            raise Rejected(422, problems)
        return decide.correct(body, episode, by=client.actor, now=now)

    return await _command(deps, response, client, episode_id, decision, ids=())


async def _command(
    deps: Container,
    response: Response,
    client: ApiClient,
    episode_id: uuid.UUID,
    decision: Callable[[decide.Episode, set[uuid.UUID]], decide.Decision],
    *,
    ids: Sequence[object],
) -> EpisodeAccepted:
    """Load the episode, decide, append; when another writer got there first, load
    and decide again. ``decision`` sees the ids already recorded, for repeats."""
    while True:
        envelopes, version = await _load(deps, episode_id)
        episode = _visible(envelopes, client)
        accepted = await _record(
            deps, response, client, episode_id,
            decision(episode, {e.event_id for e in envelopes}),
            version=version, ids=ids, status=episode.status,
        )  # fmt: skip
        if accepted:
            return accepted


@router.get(
    "/episodes/{episode_id}",
    responses=NOT_FOUND,
    # Every field is set below but the staff's sections, left unset for the police:
    # so they get no such key at all, not even null.
    response_model_exclude_unset=True,
    summary="One episode: the police their force's, staff any, with its interview",
)
async def read_episode(
    episode_id: EpisodeId, client: OnCall, deps: Deps
) -> EpisodeRead:
    envelopes, _ = await _load(deps, episode_id)
    episode = _visible(envelopes, client)
    read = _episode_read(episode_id, episode, envelopes)
    read.alerted_roles = await roles_alerted(deps.store, episode_id)
    found = deps.acknowledgements
    acknowledged = await found(deps.store, episode_id) if found else []
    read.acknowledgements = [AcknowledgementRead(**a) for a in acknowledged]
    if client.role is Role.staff:
        for key, section in deps.staff_sections.items():
            setattr(read, key, await section(deps.store, episode_id))
    return read


def _episode_read(
    episode_id: uuid.UUID, episode: decide.Episode, envelopes: Sequence[Envelope]
) -> EpisodeRead:
    report = episode.report
    return EpisodeRead(
        episode_id=episode_id,
        police_force=report.police_force,
        police_reference=report.police_reference,
        status=episode.status,
        episode_type=episode.current_type,
        police_risk_grade=episode.grade,
        missing_since=report.missing_since,
        reported_at=report.reported_at,
        child_match=report.match.status,
        timeline=[
            TimelineEntry(event=e.type, at=e.occurred_at, recorded_at=e.recorded_at)
            for e in envelopes
        ],
        risk_assessment=_latest_assessment(envelopes),
        found_at=episode.found_at,
    )


def _latest_assessment(envelopes: Sequence[Envelope]) -> RiskSummary | None:
    """Triage's latest word: level, reasons by code, actions, sources asked."""
    latest = None
    for envelope in envelopes:
        if envelope.type in (RiskAssessed.type_name, RiskReassessed.type_name):
            latest = cast(RiskAssessed | RiskReassessed, envelope.event)
    if latest is None:
        return None
    return RiskSummary(
        level=latest.level,
        score=latest.score,
        factors=[f.code for f in latest.factors],
        actions=latest.actions,
        sources_answered=latest.sources_answered,
        sources_missing=latest.sources_missing,
        policy_version=latest.policy_version,
        assessed_at=latest.assessed_at,
    )


@router.get("/episodes", summary="This force's episodes, oldest first")
async def list_episodes(
    client: Police,
    deps: Deps,
    status: Literal["open", "found", "withdrawn"] | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> EpisodePage:
    query = select(episodes).where(episodes.c.police_force == client.police_force)
    if status:
        query = query.where(episodes.c.status == status)
    rows, next_cursor = await page(
        deps.store, query, episodes.c.opened_position, limit, cursor
    )
    return EpisodePage(
        items=[EpisodeSummary.model_validate(dict(r)) for r in rows],
        next_cursor=next_cursor,
    )


@router.put(
    "/children/{la_child_id}",
    summary="Record a child in the children's records (case-management feed)",
)
async def put_child(
    la_child_id: Annotated[str, Path(pattern=CHILD_ID)],
    body: ChildRecordPut,
    client: Integrator,
    deps: Deps,
) -> dict[str, object]:
    problems = []
    if body.placing_authority not in la_codes():
        problems.append(("placing_authority", "is not a known local authority code"))
    if body.date_of_birth > deps.now().date():
        problems.append(("date_of_birth", "is in the future"))
    problems += care_period_problems(body.care_periods)
    if problems:
        raise Rejected(422, problems)
    record = ChildRecorded(la_child_id=la_child_id, **body.model_dump())
    if await child_record(deps.store, la_child_id) == record:
        return {"la_child_id": la_child_id, "changed": False}
    await deps.store.append(
        stream_name(Category.child, la_child_id),
        [NewEvent(event=record, actor=client.actor)],
        expected_version=None,
    )
    return {"la_child_id": la_child_id, "changed": True}


@router.delete(
    "/children/{la_child_id}/personal-data",
    summary="Erase a child's personal data, for good (role manager)",
    description=(
        "Destroys the keys that seal the child's personal fields and its episodes'"
        " (names, date of birth to the day, places, notes), then rebuilds the read"
        " models: no API, page, export or Kafka record published from now on shows"
        " them; aggregate figures stay. Idempotent: ``keys_erased`` is 0 when"
        " there was nothing left to erase. See docs/data-protection.md, Erasure."
    ),
)
async def erase_personal_data(
    la_child_id: Annotated[str, Path(pattern=CHILD_ID)],
    reason: Annotated[str, Query(min_length=3, max_length=500)],
    client: Manager,
    deps: Deps,
) -> dict[str, object]:
    erased = await erase_child(deps.store, la_child_id, f"{client.actor}: {reason}")
    return {"la_child_id": la_child_id, "keys_erased": len(erased)}
