"""Alerts over HTTP: on-call staff list and acknowledge them (with their token, or the
signed one-click link in a message), follow them live as server-sent events, and GOV.UK
Notify reports deliveries. Answers carry roles and ids, never contact details.

Each alert belongs to whoever it was raised for. Staff tokens are the council's: they
see its alerts (social workers, teams, duty, out of hours, managers, home authorities)
but not those of a police team (the MCET), which are the police's business, seen by
the force's own client for the episodes that force reported. Another's alert is a
404 on acknowledgement, as if it did not exist, and absent from lists and the feed.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, and_, bindparam, case, not_, select, true

from events.contracts.alerts import (
    AlertAcknowledged,
    AlertDelivered,
    AlertDeliveryFailed,
)
from events.envelope import Envelope, NewEvent
from events.ids import derive_id
from events.registry import Event
from events.store import Append, Commit, ConcurrencyError
from events.store.sql import SqlEventStore
from events.streams import Category, stream_name
from events.subscriptions import wait_any
from services.api.audit import identify
from services.api.auth import ApiClient, Role
from services.api.container import Container
from services.api.deps import Deps, OnCall, admit, refuse
from services.api.schemas import Natural
from services.notifier.channels.notify_receipts import (
    InvalidReceiptError,
    callback_authorised,
    parse_delivery_receipt,
)
from services.notifier.projector import TYPES
from services.notifier.routing import POLICE_TEAMS
from services.notifier.tables import alerts, deliveries
from services.records.tables import episodes

router = APIRouter(prefix="/v1", tags=["alerts"])
Status = Literal["open", "acknowledged", "closed"]
HEARTBEAT_S = 15.0
MAX_OFFSET = 1_000_000
"""Past any list of alerts a person pages through; past 2**63 the database fails."""
_POSITION = re.compile(r"[0-9]{1,19}")


class AlertSummary(BaseModel):
    alert_id: uuid.UUID
    episode_id: uuid.UUID
    police_force: str
    police_reference: str
    role: str
    level: str
    status: Status
    raised_at: datetime
    acknowledged_at: datetime | None
    escalation_step: int
    matter: str | None = Field(
        None,
        description="What the alert is about when not the episode's risk:"
        " interview_overdue, strategy_discussion or exploitation_concerns",
    )


class AlertPage(BaseModel):
    items: list[AlertSummary]
    next_offset: int | None


class Acknowledged(BaseModel):
    alert_id: uuid.UUID
    status: Status
    acknowledged_at: datetime | None


class Viewer(Protocol):
    """Who looks at alerts: an API client, or the council's staff on the pages."""

    @property
    def role(self) -> Role: ...

    @property
    def police_force(self) -> str | None: ...


@dataclass(frozen=True)
class CouncilStaff:
    """The staff's pages see what a staff token sees."""

    role: Role = Role.staff
    police_force: str | None = None


COUNCIL_STAFF = CouncilStaff()


def _seen_by(client: Viewer | None) -> ColumnElement[bool]:
    """The alerts a client may see (with ``episodes`` joined): a police client its
    own force's police teams', staff the council's; a signed link (no client) the
    one alert it names."""
    police_team = alerts.c.role.in_(POLICE_TEAMS)
    if client is None:
        return true()
    if client.role is Role.police:
        return and_(police_team, episodes.c.police_force == client.police_force)
    return not_(police_team)


def _alerts_seen_by(client: Viewer | None, *columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .join_from(alerts, episodes, episodes.c.episode_id == alerts.c.episode_id)
        .where(_seen_by(client))
    )


@router.get(
    "/alerts",
    summary="Alerts, most urgent first: the council's for staff, the force's"
    " police teams' for a police client",
)
async def list_alerts(
    client: OnCall,
    deps: Deps,
    status: Status = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> AlertPage:
    urgency = case({"high": 0, "medium": 1, "low": 2}, value=alerts.c.level, else_=3)
    columns = (alerts, episodes.c.police_force, episodes.c.police_reference)
    query = (
        _alerts_seen_by(client, *columns)
        .where(alerts.c.status == status)
        .order_by(urgency, alerts.c.raised_at, alerts.c.alert_id)
        .offset(offset)
        .limit(limit + 1)
    )
    async with deps.store.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    page, more = rows[:limit], len(rows) > limit
    return AlertPage(
        items=[AlertSummary.model_validate(r._mapping) for r in page],
        next_offset=offset + limit if more else None,
    )


@router.post(
    "/alerts/{alert_id}/ack",
    summary="Acknowledge an alert: I have seen it and I am acting on it",
    responses={
        404: {"description": "No such alert, or another's"},
        409: {"description": "The episode is over"},
        503: {
            "description": "The alert is changing under many hands: try again",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        },
    },
)
async def acknowledge(alert_id: uuid.UUID, client: OnCall, deps: Deps) -> Acknowledged:
    return await _acknowledge(deps, alert_id, client, actor=client.actor, via="api")


@router.get(
    "/alerts/{alert_id}/ack-link", response_class=HTMLResponse, include_in_schema=False
)
async def ack_link_page(
    alert_id: uuid.UUID, deps: Deps, d: str = "", e: Natural = 0, s: str = ""
) -> HTMLResponse:
    """A link only shows a button: mail scanners open links, and must not
    acknowledge an alert that nobody has read."""
    _check_link(deps, alert_id, d, e, s)
    action = html.escape(f"/v1/alerts/{alert_id}/ack-link?d={d}&e={e}&s={s}")
    return _page(
        "Acknowledge this alert?",
        f'<form method="post" action="{action}">'
        '<button type="submit">I have seen this alert and I am acting on it</button>'
        "</form>",
    )


@router.post(
    "/alerts/{alert_id}/ack-link", response_class=HTMLResponse, include_in_schema=False
)
async def ack_link(
    request: Request,
    deps: Deps,
    alert_id: uuid.UUID,
    d: str = "",
    e: Natural = 0,
    s: str = "",
) -> HTMLResponse:
    _check_link(deps, alert_id, d, e, s)
    identify(request, f"link:{d}")
    done = await _acknowledge(deps, alert_id, None, actor=f"link:{d}", via="link")
    if done.status == "closed":
        return _page("This episode is over", "<p>Nothing more is needed.</p>")
    return _page("Acknowledged", "<p>Thank you. The alert is acknowledged.</p>")


@router.get(
    "/alerts/stream",
    summary="Alerts as they happen (server-sent events); resumes from Last-Event-ID",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def alert_stream_feed(
    request: Request,
    client: OnCall,
    deps: Deps,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="The id of the last event received: resume after it",
        ),
    ] = None,
) -> StreamingResponse:
    after = await resume_after(deps, last_event_id)
    return StreamingResponse(
        _feed(request, deps, client, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/callbacks/notify", include_in_schema=False, status_code=204)
async def notify_receipt(
    request: Request,
    deps: Deps,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """GOV.UK Notify's delivery receipts (docs/channels.md)."""
    admit(request, deps)
    token = deps.notify_callback_token
    if token is None or not callback_authorised(token, authorization):
        raise refuse(request, deps, "not a Notify callback")
    try:
        receipt = parse_delivery_receipt(await request.body())
    except InvalidReceiptError as exc:
        raise HTTPException(422, str(exc)) from None
    query = select(
        deliveries.c.delivery_id,
        deliveries.c.alert_id,
        deliveries.c.kind,
        deliveries.c.attempt,
        deliveries.c.channels,
        deliveries.c.channel_index,
    ).where(deliveries.c.provider_id == str(receipt.id))
    async with deps.store.engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return  # not ours, or already moved on: Notify must not retry it
    at = receipt.completed_at or deps.now()
    event: Event
    if receipt.status == "delivered":
        event = AlertDelivered(
            alert_id=row.alert_id,
            delivery_id=row.delivery_id,
            channel=row.channels[row.channel_index],
            provider_id=str(receipt.id),
            delivered_at=at,
        )
    else:
        event = AlertDeliveryFailed(
            alert_id=row.alert_id,
            delivery_id=row.delivery_id,
            kind=row.kind,
            channel=row.channels[row.channel_index],
            attempt=row.attempt,
            code=f"notify_{receipt.status}",
            status=None,
            permanent=not receipt.retryable,
            retry_at=deps.now() if receipt.retryable else None,
            failed_at=at,
        )
    new = NewEvent(
        event=event,
        event_id=derive_id("notify-receipt", receipt.id, receipt.status),
        actor="notify",
    )
    await deps.store.commit(
        Commit([Append(stream_name(Category.alert, row.alert_id), [new])])
    )


async def _acknowledge(
    deps: Container,
    alert_id: uuid.UUID,
    viewer: Viewer | None,
    *,
    actor: str,
    via: Literal["api", "link", "web"],
) -> Acknowledged:
    """By ``actor``, who may see what ``viewer`` sees (no viewer: the signed link of
    one alert). Only a link answers an episode that is over without a 409: its
    reader is told so on a page."""
    for _ in range(5):  # a concurrent delivery record moves the stream: read again
        row = await _alert(deps, alert_id, viewer)
        if row.status != "open":
            if row.status == "closed" and via != "link":
                raise HTTPException(409, "the episode is over: nothing to acknowledge")
            return Acknowledged(
                alert_id=alert_id,
                status=row.status,
                acknowledged_at=row.acknowledged_at,
            )
        at = deps.now()
        new = NewEvent(
            event=AlertAcknowledged(alert_id=alert_id, acknowledged_at=at, via=via),
            actor=actor,
        )
        try:
            await deps.store.commit(
                Commit(
                    [Append(stream_name(Category.alert, alert_id), [new], row.version)]
                )
            )
        except ConcurrencyError:
            continue
        return Acknowledged(
            alert_id=alert_id, status="acknowledged", acknowledged_at=at
        )
    raise HTTPException(503, "the alert is busy; try again", {"Retry-After": "1"})


ACKNOWLEDGED = (
    select(alerts.c.role, alerts.c.acknowledged_at)
    .where(
        alerts.c.episode_id == bindparam("episode_id"),
        alerts.c.acknowledged_at.is_not(None),
    )
    .order_by(alerts.c.acknowledged_at, alerts.c.role)
)


async def episode_acknowledgements(
    reads: SqlEventStore, episode_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The episode's alerts acknowledged, by role and when: what the police see of
    the council's acknowledgements (intake's view of the episode shows them)."""
    rows = await reads.select(ACKNOWLEDGED, {"episode_id": episode_id})
    return [{"role": r.role, "acknowledged_at": r.acknowledged_at} for r in rows]


async def _alert(deps: Container, alert_id: uuid.UUID, client: Viewer | None) -> Any:
    columns = (alerts.c.status, alerts.c.version, alerts.c.acknowledged_at)
    query = _alerts_seen_by(client, *columns).where(alerts.c.alert_id == alert_id)
    async with deps.store.engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        raise HTTPException(404, "alert not found")
    return row


def _check_link(deps: Container, alert_id: uuid.UUID, d: str, e: int, s: str) -> None:
    links = deps.links
    if links is None or not links.valid(alert_id, d, e, s, now=deps.now()):
        raise HTTPException(403, "this link is not valid, or has expired")


def _page(title: str, content: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang=en><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width'>"
        f"<title>{html.escape(title)} - Lantern</title>"
        f"<h1>{html.escape(title)}</h1>{content}</html>"
    )


async def resume_after(deps: Container, last_event_id: str | None) -> int:
    """After the client's last event, else from now. An id the stream cannot have
    sent (not a position, or past the log's head) is a 400: the stream would
    otherwise fail on it, or wait for ever for events after it."""
    head = await deps.store.head()
    if last_event_id is None:
        return head
    if _POSITION.fullmatch(last_event_id) and int(last_event_id) <= head:
        return int(last_event_id)
    raise HTTPException(400, "Last-Event-ID is not the id of an event in this stream")


async def _feed(
    request: Request, deps: Container, client: ApiClient, after: int
) -> AsyncIterator[str]:
    """The events of the alerts ``client`` may see after ``after``, then each one as
    it is recorded."""
    yield "retry: 2000\n\n"
    async for envelope in alert_changes(request, deps, client, after):
        if envelope is None:
            yield ": keep-alive\n\n"
            continue
        data = {k: v for k, v in envelope.data.items() if k != "contact"}
        text = json.dumps(data, separators=(",", ":"))
        yield f"id: {envelope.position}\nevent: {envelope.type}\ndata: {text}\n\n"


async def alert_changes(
    request: Request,
    deps: Container,
    viewer: Viewer,
    after: int,
    *,
    heartbeat_s: float = HEARTBEAT_S,
    still: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[Envelope | None]:
    """Each event of the alerts ``viewer`` may see after ``after``, then each one as
    it is recorded, until the client goes or the process stops; None after
    ``heartbeat_s`` of quiet, for a comment line that keeps proxies from closing
    an idle stream. ``still``, asked at each heartbeat, ends the stream when false
    (a signed-out page's)."""
    quiet_since = time.monotonic()
    while not deps.stop.is_set() and not await request.is_disconnected():
        changes = deps.store.changes(TYPES)  # a new one after each commit of alerts
        page, seen = await _shared_read(deps, viewer, after)
        for envelope in page:
            after = envelope.position
            if envelope.type in TYPES and envelope.data["alert_id"] in seen:
                yield envelope
                quiet_since = time.monotonic()
        if not page:
            await wait_any(deps.stop, changes, 1.0)
        if time.monotonic() - quiet_since > heartbeat_s:
            if still is not None and not await still():
                return
            yield None
            quiet_since = time.monotonic()


_Read = tuple[list[Envelope], set[str]]
_READS: dict[tuple[int, int, str, str | None], asyncio.Task[_Read]] = {}


async def _shared_read(deps: Container, viewer: Viewer, after: int) -> _Read:
    """The page of the log after ``after`` and which of its alerts ``viewer`` may
    see, read once for every stream that asks at the same moment: a commit wakes
    every open page's stream, and a hundred of them read the same page as one."""
    key = (id(deps.store), after, viewer.role.value, viewer.police_force)
    task = _READS.get(key)
    if task is None:
        task = asyncio.ensure_future(_read(deps, viewer, after))
        _READS[key] = task
        task.add_done_callback(lambda _: _READS.pop(key, None))
    return await asyncio.shield(task)


async def _read(deps: Container, viewer: Viewer, after: int) -> _Read:
    page = await deps.store.read_all(after=after, limit=500)
    return page, await _seen(deps, viewer, page)


async def _seen(deps: Container, client: Viewer, page: Sequence[Envelope]) -> set[str]:
    """The ids of the alerts of ``page`` that ``client`` may see: the read model is
    kept in each append's transaction, so it has every alert the page names."""
    ids = {uuid.UUID(e.data["alert_id"]) for e in page if e.type in TYPES}
    if not ids:
        return set()
    query = _alerts_seen_by(client, alerts.c.alert_id).where(alerts.c.alert_id.in_(ids))
    async with deps.store.engine.connect() as conn:
        return {str(alert_id) for alert_id in await conn.scalars(query)}
