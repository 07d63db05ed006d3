"""API clients: bearer tokens, of which only a SHA-256 hash is stored.

Tokens are 256 random bits, so a fast hash is enough (no password stretching needed).
A police client acts for one force; an integrator feeds the directories; staff
clients (council staff on call) read and acknowledge alerts.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from events.envelope import utcnow
from events.store.engine import writer
from services.api.tables import api_clients

CACHE_SECONDS = 5.0  # a revoked token stops working within this
MAX_CACHED = 10_000  # tokens seen, good or bad: a flood of bad ones must not grow it


class Role(StrEnum):
    police = "police"
    integrator = "integrator"
    staff = "staff"  # council staff on call: alerts, acknowledgements
    analyst = "analyst"  # managers and analysts: aggregate reports, no child's data
    manager = "manager"  # erases a child's personal data (docs/data-protection.md)


@dataclass(frozen=True)
class ApiClient:
    client_id: uuid.UUID
    name: str
    role: Role
    police_force: str | None

    @property
    def actor(self) -> str:
        return f"client:{self.name}"


class ClientError(ValueError):
    pass


def new_token() -> str:
    return "lnt_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ClientRegistry:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._cache: dict[str, tuple[float, ApiClient | None]] = {}
        self._looking_up: dict[str, asyncio.Future[ApiClient | None]] = {}

    async def authenticate(self, token: str) -> ApiClient | None:
        digest = hash_token(token)
        cached = self._cache.get(digest)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        lookup = self._looking_up.get(digest)
        if lookup is None:  # under load, every request misses when an entry expires
            lookup = asyncio.ensure_future(self._look_up(digest))
            self._looking_up[digest] = lookup
        return await asyncio.shield(lookup)  # one caller leaving must not stop it

    async def _look_up(self, digest: str) -> ApiClient | None:
        """One query per token at a time, however many requests wait for it."""
        try:
            async with self.engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(api_clients).where(
                            api_clients.c.token_hash == digest,
                            api_clients.c.revoked_at.is_(None),
                        )
                    )
                ).first()
        finally:
            self._looking_up.pop(digest, None)
        client = _client(row) if row else None
        self._cache.pop(digest, None)  # re-added last: the first is the oldest
        if len(self._cache) >= MAX_CACHED:
            del self._cache[next(iter(self._cache))]
        self._cache[digest] = (time.monotonic(), client)
        return client

    async def create(self, name: str, role: Role, police_force: str | None) -> str:
        if (role is Role.police) != bool(police_force):
            raise ClientError(
                "--force is required for police clients and only for them"
            )
        token = new_token()
        async with writer(self.engine).begin() as conn:
            taken = await conn.scalar(
                select(api_clients.c.client_id).where(api_clients.c.name == name)
            )
            if taken:
                raise ClientError(f"a client named {name!r} exists already")
            await conn.execute(
                insert(api_clients).values(
                    client_id=uuid.uuid4(),
                    name=name,
                    role=role,
                    police_force=police_force,
                    token_hash=hash_token(token),
                    created_at=utcnow(),
                )
            )
        return token

    async def rotate(self, name: str) -> str:
        token = new_token()
        await self._change(name, token_hash=hash_token(token), rotated_at=utcnow())
        return token

    async def revoke(self, name: str) -> None:
        await self._change(name, revoked_at=utcnow())

    async def _change(self, name: str, **values: object) -> None:
        async with writer(self.engine).begin() as conn:
            result = await conn.execute(
                update(api_clients)
                .where(api_clients.c.name == name, api_clients.c.revoked_at.is_(None))
                .values(**values)
            )
        if not result.rowcount:
            raise ClientError(f"no active client named {name!r}")

    async def list(self) -> list[dict[str, object]]:
        columns = [c for c in api_clients.c if c.name != "token_hash"]
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(*columns).order_by(api_clients.c.name))
        return [dict(r._mapping) for r in rows]


def _client(row: object) -> ApiClient:
    m = row._mapping  # type: ignore[attr-defined]
    return ApiClient(m["client_id"], m["name"], Role(m["role"]), m["police_force"])
