"""The integrators' routes of webhook subscriptions: each subscription is its
client's own; another client's is 404. The secret is taken, kept (it signs every
POST), and never shown again."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from sqlalchemy import delete, func, insert, select, update

import events.contracts  # noqa: F401  (registers every event type)
from events.registry import event_types
from events.store.tables import events as event_log
from services.api.auth import ApiClient
from services.api.container import Container
from services.api.deps import Deps, Integrator
from services.api.errors import Rejected
from services.api.schemas import BIGINT_MAX, Body, Flag, Moment
from services.outbound.destinations import url_problem
from services.records.authorities import la_codes
from services.webhooks.rules import subscribable, unknown_types
from services.webhooks.tables import webhook_subscriptions as subs

router = APIRouter(prefix="/v1", tags=["webhook subscriptions"])
SubscriptionId = Annotated[uuid.UUID, Path(description="The subscription's id")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such subscription of this client's"}
}


class SubscriptionCreate(Body):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    url: str = Field(max_length=2000, description="https; http on allowed hosts")
    event_types: list[str] = Field(min_length=1, max_length=100)
    secret: SecretStr = Field(
        min_length=32, max_length=200, description="Signs each POST (HMAC-SHA256)"
    )
    placing_authority: str | None = Field(
        None,
        description="A partner council's DfE LA code: only its own children's events",
    )


class SubscriptionPatch(Body):
    paused: Flag


class Replay(Body):
    """Exactly one of them: the first event resent is at or after it."""

    from_position: int | None = Field(None, ge=1, le=BIGINT_MAX)
    from_time: Moment | None = None

    @model_validator(mode="after")
    def _one(self) -> Replay:
        if (self.from_position is None) == (self.from_time is None):
            raise ValueError("give exactly one of from_position and from_time")
        return self


class SubscriptionRead(BaseModel):
    subscription_id: uuid.UUID
    url: str
    event_types: list[str]
    placing_authority: str | None
    paused: bool
    paused_reason: str | None
    position: int = Field(description="The last event delivered (or passed by)")
    failing_since: datetime | None
    last_error: str | None
    created_at: datetime


class SubscriptionList(BaseModel):
    items: list[SubscriptionRead]


def _read(row: Any) -> SubscriptionRead:
    return SubscriptionRead.model_validate(dict(row._mapping))


def _check(body: SubscriptionCreate, deps: Container) -> None:
    problems = []
    if (why := url_problem(body.url, deps.webhook_hosts)) is not None:
        problems.append(("url", why))
    if unknown := unknown_types(body.event_types, subscribable(event_types())):
        problems.append(
            ("event_types", f"not event types a subscription may have: {unknown}")
        )
    if body.placing_authority is not None and body.placing_authority not in la_codes():
        problems.append(("placing_authority", "is not a known local authority code"))
    if problems:
        raise Rejected(422, problems)


async def _own(deps: Container, client: ApiClient, sid: uuid.UUID) -> Any:
    async with deps.store.engine.connect() as conn:
        row = (
            await conn.execute(
                select(subs).where(
                    subs.c.subscription_id == sid, subs.c.client_id == client.client_id
                )
            )
        ).first()
    if row is None:
        raise HTTPException(404, "no such subscription")
    return row


@router.post(
    "/subscriptions", status_code=201, summary="Subscribe a URL to event types"
)
async def create_subscription(
    body: SubscriptionCreate, client: Integrator, deps: Deps
) -> SubscriptionRead:
    _check(body, deps)
    now = deps.now()
    sid = uuid.uuid4()
    row = {
        "subscription_id": sid, "client_id": client.client_id, "url": body.url,
        "event_types": list(dict.fromkeys(body.event_types)),
        "secret": body.secret.get_secret_value(), "paused": False,
        "placing_authority": body.placing_authority,
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    async with deps.store.engine.begin() as conn:  # from now on; history by replay
        latest = await conn.scalar(select(func.max(event_log.c.position)))
        await conn.execute(insert(subs).values(**row, position=latest or 0))
    return _read(await _own(deps, client, sid))


@router.get("/subscriptions", summary="This client's subscriptions")
async def list_subscriptions(client: Integrator, deps: Deps) -> SubscriptionList:
    query = (
        select(subs)
        .where(subs.c.client_id == client.client_id)
        .order_by(subs.c.created_at, subs.c.subscription_id)
    )
    async with deps.store.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return SubscriptionList(items=[_read(r) for r in rows])


@router.get(
    "/subscriptions/{subscription_id}", responses=NOT_FOUND, summary="A subscription"
)
async def read_subscription(
    subscription_id: SubscriptionId, client: Integrator, deps: Deps
) -> SubscriptionRead:
    return _read(await _own(deps, client, subscription_id))


@router.patch(
    "/subscriptions/{subscription_id}",
    responses=NOT_FOUND,
    summary="Pause or resume a subscription",
)
async def pause_subscription(
    subscription_id: SubscriptionId,
    body: SubscriptionPatch,
    client: Integrator,
    deps: Deps,
) -> SubscriptionRead:
    await _own(deps, client, subscription_id)
    values: dict[str, Any] = {"paused": body.paused, "updated_at": deps.now()}
    values |= {"paused_reason": "by its owner"} if body.paused else {}
    if not body.paused:  # resumed: its failures start counting again
        values |= {"paused_reason": None, "failing_since": None, "last_error": None}
    await _update(deps, subscription_id, values)
    return _read(await _own(deps, client, subscription_id))


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=204,
    responses=NOT_FOUND,
    summary="End a subscription",
)
async def delete_subscription(
    subscription_id: SubscriptionId, client: Integrator, deps: Deps
) -> Response:
    await _own(deps, client, subscription_id)
    async with deps.store.engine.begin() as conn:
        await conn.execute(
            delete(subs).where(subs.c.subscription_id == subscription_id)
        )
    return Response(status_code=204)


@router.post(
    "/subscriptions/{subscription_id}/replay",
    responses=NOT_FOUND,
    summary="Resend history from a position or a time",
)
async def replay_subscription(
    subscription_id: SubscriptionId, body: Replay, client: Integrator, deps: Deps
) -> SubscriptionRead:
    await _own(deps, client, subscription_id)
    if body.from_position is not None:
        position = body.from_position - 1
    else:
        async with deps.store.engine.connect() as conn:
            before = await conn.scalar(
                select(func.max(event_log.c.position)).where(
                    event_log.c.recorded_at < body.from_time
                )
            )
        position = before or 0
    await _update(
        deps, subscription_id, {"position": position, "updated_at": deps.now()}
    )
    return _read(await _own(deps, client, subscription_id))


async def _update(deps: Container, sid: uuid.UUID, values: dict[str, Any]) -> None:
    async with deps.store.engine.begin() as conn:
        await conn.execute(
            update(subs).where(subs.c.subscription_id == sid).values(**values)
        )
