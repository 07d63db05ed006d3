"""Signing in with the council's OpenID Connect provider: a real provider process
(oidc-provider-mock, tests/oidc_provider.py) and a real Lantern, the browser's part
played with httpx, each redirect followed by hand."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from services.api.ratelimit import RateLimiter
from services.api.tables import people, web_sessions
from services.api.web.oidc import FLOW_COOKIE
from services.api.web.people import WebRole
from services.api.web.sessions import COOKIE
from services.api.web.settings import WebSettings
from tests.api import Api, serve_api
from tests.e2e.processes import free_port
from tests.oidc_provider import OidcProvider, sign_in_at_provider
from tests.waiting import HTTP_TIMEOUT

pytestmark = pytest.mark.postgres_only


@dataclass
class Council:
    """Lantern, set up with the provider as the council's."""

    api: Api
    provider: OidcProvider

    @asynccontextmanager
    async def browser(self) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(
            timeout=HTTP_TIMEOUT, base_url=str(self.api.http.base_url)
        ) as http:
            yield http

    async def person(self, sub: str):
        async with self.api.store.engine.connect() as conn:
            return (
                await conn.execute(select(people).where(people.c.oidc_subject == sub))
            ).first()

    async def sessions_of(self, person_id: uuid.UUID) -> int:
        async with self.api.store.engine.connect() as conn:
            rows = await conn.execute(
                select(web_sessions).where(
                    web_sessions.c.person_id == person_id,
                    web_sessions.c.ended_at.is_(None),
                )
            )
            return len(rows.all())


@asynccontextmanager
async def council(
    database_url: str, provider: OidcProvider, **serve: Any
) -> AsyncIterator[Council]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client = await provider.register_client([f"{base}/sign-in/callback"])
    settings = WebSettings(
        web_public_url=base,
        oidc_issuer=provider.issuer,
        oidc_client_id=client.client_id,
        oidc_client_secret=client.client_secret,
        oidc_groups_claim="groups",
        oidc_role_groups={
            "kent-duty": "staff",
            "kent-insight": "analyst",
            "kent-leads": "manager",
        },
    )
    async with serve_api(database_url, web=settings, port=port, **serve) as api:
        yield Council(api, provider)


def a_subject() -> str:
    return f"u-{uuid.uuid4().hex[:10]}"


async def test_staff_sign_in_through_the_provider(database_url, oidc_provider):
    sub = a_subject()
    await oidc_provider.set_user(
        sub, email="Jo.Duty@Kent.test", name="Jo Duty", groups=["kent-duty", "other"]
    )
    async with council(database_url, oidc_provider) as kent, kent.browser() as browser:
        with capture_logs() as logs:
            seen = await sign_in_at_provider(browser, sub=sub)
        query = seen.query
        assert seen.authorization_url.startswith(f"{oidc_provider.issuer}/oauth2/")
        assert query["response_type"] == ["code"]
        assert query["code_challenge_method"] == ["S256"]
        assert len(query["code_challenge"][0]) >= 43
        assert query["nonce"] and query["state"]
        assert query["redirect_uri"] == [
            str(kent.api.http.base_url).rstrip("/") + "/sign-in/callback"
        ]
        assert "code_verifier" not in query
        assert seen.back.status_code == 303, seen.back.text
        assert seen.back.headers["location"] == "/"
        assert COOKIE in browser.cookies
        home = await browser.get("/")
        assert (home.status_code, home.headers["location"]) == (303, "/now")
        person = await kent.person(sub)
    assert person is not None
    assert (person.email, person.name, person.roles) == (
        "jo.duty@kent.test",
        "Jo Duty",
        "staff",
    )
    signed_in = [e for e in logs if e["event"] == "signed_in"]
    assert signed_in == [
        {
            "event": "signed_in",
            "log_level": "info",
            "person": str(person.person_id),
            "how": "oidc",
        }
    ]
    assert "Jo" not in repr(logs) and "kent.test" not in repr(logs)


async def test_the_flow_cookie_is_signed_httponly_and_scoped(
    sqlite_database, oidc_provider
):
    async with council(sqlite_database, oidc_provider) as kent, kent.browser() as b:
        page = await b.get("/sign-in")
        assert 'href="/sign-in/oidc"' in page.text
        begin = await b.get("/sign-in/oidc")
    cookie = begin.headers["set-cookie"]
    assert cookie.startswith(f"{FLOW_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/sign-in/callback" in cookie and "Max-Age=600" in cookie
    state = httpx.URL(begin.headers["location"]).params["state"]
    assert state not in cookie.split(";")[0]  # not readable: encoded, and signed


async def test_an_analyst_only_group_starts_at_the_reports(
    sqlite_database, oidc_provider
):
    sub = a_subject()
    await oidc_provider.set_user(
        sub, email=f"{sub}@kent.test", name="An Analyst", groups=["kent-insight"]
    )
    async with council(sqlite_database, oidc_provider) as kent, kent.browser() as b:
        seen = await sign_in_at_provider(b, sub=sub)
        assert seen.back.status_code == 303
        home = await b.get("/")
        now = await b.get("/now")
    assert home.headers["location"] == "/reports"
    assert now.status_code in (403, 404)  # no /now for an analyst, either way


async def test_roles_change_at_the_next_sign_in(database_url, oidc_provider):
    sub = a_subject()
    await oidc_provider.set_user(
        sub, email=f"{sub}@kent.test", name="Sam Lead", groups=["kent-leads"]
    )
    async with council(database_url, oidc_provider) as kent:
        async with kent.browser() as first:
            await sign_in_at_provider(first, sub=sub)
            assert (await first.get("/")).headers["location"] == "/now"
        assert (await kent.person(sub)).roles == "manager"

        await oidc_provider.set_user(
            sub, email=f"{sub}@kent.test", name="Sam Lead", groups=["kent-insight"]
        )
        async with kent.browser() as second:
            seen = await sign_in_at_provider(second, sub=sub)
            assert seen.back.status_code == 303
            assert (await second.get("/")).headers["location"] == "/reports"
        person = await kent.person(sub)
    assert person.roles == "analyst"


async def test_a_group_with_no_role_signs_nobody_in(sqlite_database, oidc_provider):
    sub = a_subject()
    await oidc_provider.set_user(
        sub, email=f"{sub}@kent.test", name="No Role", groups=["kent-finance"]
    )
    async with council(sqlite_database, oidc_provider) as kent, kent.browser() as b:
        seen = await sign_in_at_provider(b, sub=sub)
        home = await b.get("/")
        person = await kent.person(sub)
    assert seen.back.status_code == 403
    assert "Your account has no Lantern role" in seen.back.text
    assert COOKIE not in b.cookies
    assert home.headers["location"] == "/sign-in"
    assert person is None


async def test_losing_every_group_ends_the_sessions(sqlite_database, oidc_provider):
    sub = a_subject()
    await oidc_provider.set_user(sub, email=f"{sub}@kent.test", groups=["kent-duty"])
    async with council(sqlite_database, oidc_provider) as kent, kent.browser() as first:
        await sign_in_at_provider(first, sub=sub)
        person = await kent.person(sub)
        assert await kent.sessions_of(person.person_id) == 1
        await oidc_provider.set_user(sub, email=f"{sub}@kent.test", groups=[])
        async with kent.browser() as second:
            seen = await sign_in_at_provider(second, sub=sub)
        assert seen.back.status_code == 403
        assert (await first.get("/")).headers["location"] == "/sign-in"
        assert await kent.sessions_of(person.person_id) == 0


async def test_a_tampered_state_is_refused(sqlite_database, oidc_provider):
    sub = a_subject()
    await oidc_provider.set_user(sub, email=f"{sub}@kent.test", groups=["kent-duty"])
    async with council(sqlite_database, oidc_provider) as kent, kent.browser() as b:
        seen = await sign_in_at_provider(b, sub=sub, state="forged-state")
        home = await b.get("/")
        person = await kent.person(sub)
    assert seen.back.status_code == 400
    assert "Sign-in did not work" in seen.back.text
    assert COOKIE not in b.cookies
    assert home.headers["location"] == "/sign-in"
    assert person is None


async def test_failed_callbacks_from_an_address_are_slowed(
    sqlite_database, oidc_provider
):
    """Guessing states or replaying codes costs the address its failure budget."""
    failures = RateLimiter(per_minute=1, burst=2)
    async with (
        council(sqlite_database, oidc_provider, failures=failures) as kent,
        kent.browser() as b,
    ):
        answers = [
            (await b.get(f"/sign-in/callback?code=c&state=s{i}")).status_code
            for i in range(3)
        ]
    assert answers == [400, 400, 429]


async def test_a_callback_without_its_cookie_is_refused(sqlite_database, oidc_provider):
    """Someone else's code and state, sent to a browser that began no sign-in (a
    login CSRF): refused."""
    sub = a_subject()
    await oidc_provider.set_user(sub, email=f"{sub}@kent.test", groups=["kent-duty"])
    async with council(sqlite_database, oidc_provider) as kent:
        async with kent.browser() as attacker:
            begin = await attacker.get("/sign-in/oidc")
            url = begin.headers["location"]
            answer = await attacker.post(url, data={"sub": sub})
        async with kent.browser() as victim:
            back = await victim.get(answer.headers["location"])
            assert back.status_code == 400
            assert COOKIE not in victim.cookies


async def test_a_denied_sign_in_says_so(sqlite_database, oidc_provider):
    async with council(sqlite_database, oidc_provider) as kent, kent.browser() as b:
        seen = await sign_in_at_provider(b, deny=True)
    assert seen.back.status_code == 403
    assert "You did not sign in" in seen.back.text
    assert COOKIE not in b.cookies


async def test_a_disabled_person_is_not_signed_in(sqlite_database, oidc_provider):
    sub = a_subject()
    await oidc_provider.set_user(sub, email=f"{sub}@kent.test", groups=["kent-duty"])
    async with council(sqlite_database, oidc_provider) as kent:
        async with kent.browser() as first:
            await sign_in_at_provider(first, sub=sub)
        await kent.api.app.state.container.web.people.disable(
            f"{sub}@kent.test", kent.api.app.state.container.now()
        )
        async with kent.browser() as again:
            seen = await sign_in_at_provider(again, sub=sub)
            assert seen.back.status_code == 403
            assert "Your account is disabled" in seen.back.text
            assert COOKIE not in again.cookies


async def test_a_local_account_becomes_the_providers(sqlite_database, oidc_provider):
    """A manager made local accounts before the provider was set up: the first
    sign-in through the provider with that e-mail is the same person."""
    sub = a_subject()
    await oidc_provider.set_user(
        sub, email=f"{sub}@kent.test", name="Kim", groups=["kent-duty"]
    )
    async with council(sqlite_database, oidc_provider) as kent, kent.browser() as b:
        web = kent.api.app.state.container.web
        local = await web.people.create_local(
            f"{sub}@kent.test",
            "Kim",
            frozenset({WebRole.analyst}),
            kent.api.app.state.container.now(),
        )
        await sign_in_at_provider(b, sub=sub)
        person = await kent.person(sub)
    assert person.person_id == local
    assert person.roles == "staff"


async def test_without_a_provider_there_is_no_oidc_sign_in(sqlite_database):
    async with serve_api(sqlite_database) as api:
        response = await api.http.get("/sign-in/oidc")
        page = await api.http.get("/sign-in")
    assert response.status_code == 404
    assert "/sign-in/oidc" not in page.text
