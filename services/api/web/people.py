"""The staff who sign in to the pages, and what each role may do there.

Roles come from the council's identity provider (its groups, mapped in settings) or,
for local accounts, from ``lantern users create``. A manager does what staff do,
and also looks after recipients and API clients; an analyst reads the reports and
nothing about any one child."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from events.store.engine import writer
from services.api.auth import hash_token
from services.api.tables import people, sign_in_links, web_sessions


class WebRole(StrEnum):
    staff = "staff"
    analyst = "analyst"
    manager = "manager"


IMPLIES = {WebRole.manager: {WebRole.staff}}
"""A manager may do everything staff may."""

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Person:
    person_id: uuid.UUID
    name: str
    roles: frozenset[WebRole]

    @property
    def actor(self) -> str:
        """Who did it, in the events they cause: an id, not a name or an e-mail."""
        return f"person:{self.person_id}"

    def may(self, *allowed: WebRole) -> bool:
        held = self.roles | {r for role in self.roles for r in IMPLIES.get(role, ())}
        return bool(held & set(allowed))


class PersonError(ValueError):
    pass


def parse_roles(text: str) -> frozenset[WebRole]:
    return frozenset(WebRole(role) for role in text.split(",") if role)


def roles_text(roles: Iterable[WebRole]) -> str:
    return ",".join(sorted(roles))


class People:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def find(self, person_id: uuid.UUID) -> Person | None:
        query = select(people).where(
            people.c.person_id == person_id, people.c.disabled_at.is_(None)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return Person(row.person_id, row.name, parse_roles(row.roles))

    async def create_local(
        self, email: str, name: str, roles: frozenset[WebRole], now: datetime
    ) -> uuid.UUID:
        email = email.strip().lower()
        if not _EMAIL.fullmatch(email):
            raise PersonError("email: is not an e-mail address")
        if not roles:
            raise PersonError("role: at least one is needed")
        person_id = uuid.uuid4()
        async with writer(self.engine).begin() as conn:
            taken = await conn.scalar(
                select(people.c.person_id).where(people.c.email == email)
            )
            if taken is not None:
                raise PersonError(f"email: {email} already has an account")
            await conn.execute(
                insert(people).values(
                    person_id=person_id,
                    email=email,
                    name=name.strip() or email,
                    roles=roles_text(roles),
                    created_at=now,
                )
            )
        return person_id

    async def sign_in_link(
        self, email: str, now: datetime, valid_for: timedelta
    ) -> str:
        """A new one-time sign-in token for a local account (returned once)."""
        email = email.strip().lower()
        async with writer(self.engine).begin() as conn:
            person_id = await conn.scalar(
                select(people.c.person_id).where(
                    people.c.email == email, people.c.disabled_at.is_(None)
                )
            )
            if person_id is None:
                raise PersonError(f"email: no account for {email}")
            token = secrets.token_urlsafe(32)
            await conn.execute(
                insert(sign_in_links).values(
                    token_hash=hash_token(token),
                    person_id=person_id,
                    expires_at=now + valid_for,
                )
            )
        return token

    async def use_link(self, token: str, now: datetime) -> Person | None:
        """The link's person, once: a used or expired link is nobody."""
        async with writer(self.engine).begin() as conn:
            used = await conn.execute(
                update(sign_in_links)
                .where(
                    sign_in_links.c.token_hash == hash_token(token),
                    sign_in_links.c.used_at.is_(None),
                    sign_in_links.c.expires_at > now,
                )
                .values(used_at=now)
                .returning(sign_in_links.c.person_id)
            )
            person_id = used.scalar()
        return None if person_id is None else await self.find(person_id)

    async def upsert_oidc(
        self,
        subject: str,
        email: str,
        name: str,
        roles: frozenset[WebRole],
        now: datetime,
    ) -> uuid.UUID | None:
        """The person the provider vouches for, found by their subject (or, the first
        time, a local account with their e-mail, which becomes theirs) or added; their
        e-mail, name and roles as the provider says today. With no role, nobody is
        added, and someone known loses their roles and sessions. A disabled person:
        None. An e-mail another account holds: ``PersonError``."""
        email = email.strip().lower()
        name = name.strip()[:200] or email
        async with writer(self.engine).begin() as conn:
            row = (
                await conn.execute(
                    select(people).where(people.c.oidc_subject == subject)
                )
            ).first()
            holder = (
                await conn.execute(select(people).where(people.c.email == email))
            ).first()
            if row is None and holder is not None and holder.oidc_subject is None:
                row = holder  # a local account made before the provider was set up
            elif holder is not None and (
                row is None or holder.person_id != row.person_id
            ):
                raise PersonError("email: another account has it")
            if row is None:
                if not roles:
                    return None
                person_id = uuid.uuid4()
                await conn.execute(
                    insert(people).values(
                        person_id=person_id, email=email, name=name,
                        roles=roles_text(roles), oidc_subject=subject, created_at=now,
                    )
                )  # fmt: skip
                return person_id
            await conn.execute(
                update(people)
                .where(people.c.person_id == row.person_id)
                .values(
                    email=email,
                    name=name,
                    roles=roles_text(roles),
                    oidc_subject=subject,
                )
            )
            if not roles or row.disabled_at is not None:
                await conn.execute(
                    update(web_sessions)
                    .where(
                        web_sessions.c.person_id == row.person_id,
                        web_sessions.c.ended_at.is_(None),
                    )
                    .values(ended_at=now)
                )
        return None if row.disabled_at is not None else row.person_id

    async def disable(self, email: str, now: datetime) -> None:
        async with writer(self.engine).begin() as conn:
            person_id = await conn.scalar(
                update(people)
                .where(people.c.email == email.strip().lower())
                .values(disabled_at=now)
                .returning(people.c.person_id)
            )
            await conn.execute(
                update(web_sessions)
                .where(web_sessions.c.person_id == person_id)
                .values(ended_at=now)
            )
        if person_id is None:
            raise PersonError(f"email: no account for {email}")
