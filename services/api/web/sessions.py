"""Staff sessions: a random token in an HttpOnly, SameSite cookie (Secure when Lantern
is reached over https), its SHA-256 kept server-side so that signing out, an idle
timeout or a disabled account ends it at once. Each session has its own CSRF token,
which every form posts back (``Visit.checked_form``)."""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from events.store.engine import writer
from services.api.auth import hash_token
from services.api.tables import people, web_sessions
from services.api.web.people import Person, parse_roles

COOKIE = "lantern_session"
TOUCH_EVERY = timedelta(seconds=60)
"""How stale ``last_seen_at`` may be: a write per minute, not per request."""


@dataclass(frozen=True)
class Visit:
    """A signed-in person's request: who, and the token their forms must carry."""

    person: Person
    csrf_token: str

    async def checked_form(self, request: Request) -> FormData:
        """The posted form, refused (403) unless it carries this session's token."""
        form = await request.form()
        given = form.get("csrf_token") or request.headers.get("x-csrf-token") or ""
        if not isinstance(given, str) or not hmac.compare_digest(
            given.encode(), self.csrf_token.encode()
        ):
            raise CsrfRefused
        return form


class CsrfRefused(Exception):
    """A form without this session's CSRF token: refused, nothing done."""


class Sessions:
    def __init__(
        self, engine: AsyncEngine, idle: timedelta, lifetime: timedelta
    ) -> None:
        self.engine = engine
        self.idle = idle
        self.lifetime = lifetime

    async def start(self, person_id: uuid.UUID, now: datetime) -> str:
        token = secrets.token_urlsafe(32)
        async with writer(self.engine).begin() as conn:
            await conn.execute(
                insert(web_sessions).values(
                    token_hash=hash_token(token),
                    person_id=person_id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    last_seen_at=now,
                )
            )
        return token

    async def visit(
        self, token: str, now: datetime, *, touch: bool = True
    ) -> Visit | None:
        """The session's visit, if it is live: not ended, not idle too long, not past
        its lifetime, its person not disabled. ``touch=False``: a page's own
        background requests (a live list's stream and refreshes), which are not
        someone at the keyboard, do not keep the session from going idle."""
        digest = hash_token(token)
        query = (
            select(web_sessions, people.c.name, people.c.roles)
            .join(people, people.c.person_id == web_sessions.c.person_id)
            .where(
                web_sessions.c.token_hash == digest,
                web_sessions.c.ended_at.is_(None),
                web_sessions.c.last_seen_at > now - self.idle,
                web_sessions.c.created_at > now - self.lifetime,
                people.c.disabled_at.is_(None),
            )
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        if touch and now - row.last_seen_at > TOUCH_EVERY:
            async with writer(self.engine).begin() as conn:
                await conn.execute(
                    update(web_sessions)
                    .where(web_sessions.c.token_hash == digest)
                    .values(last_seen_at=now)
                )
        person = Person(row.person_id, row.name, parse_roles(row.roles))
        return Visit(person, row.csrf_token)

    async def alive(self, token: str, now: datetime) -> bool:
        """Whether a session still stands, without counting as use (a live page's
        stream asks this: an open tab is not someone at the keyboard)."""
        query = select(web_sessions.c.token_hash).where(
            web_sessions.c.token_hash == hash_token(token),
            web_sessions.c.ended_at.is_(None),
            web_sessions.c.last_seen_at > now - self.idle,
            web_sessions.c.created_at > now - self.lifetime,
        )
        async with self.engine.connect() as conn:
            return (await conn.scalar(query)) is not None

    async def end(self, token: str, now: datetime) -> None:
        async with writer(self.engine).begin() as conn:
            await conn.execute(
                update(web_sessions)
                .where(web_sessions.c.token_hash == hash_token(token))
                .values(ended_at=now)
            )


def set_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE, token, httponly=True, secure=secure, samesite="lax", path="/"
    )


def clear_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(
        COOKIE, httponly=True, secure=secure, samesite="lax", path="/"
    )
