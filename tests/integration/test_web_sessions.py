"""Local accounts and staff sessions: the one-time sign-in link from
``lantern users create`` (a real command), sign-out with its CSRF token, the idle
timeout and the session's lifetime, a disabled account, the cookies' flags and the
content security policy."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from sqlalchemy import select, update

from services.api.tables import people, web_sessions
from services.api.web.pages import StaffVisit
from services.api.web.sessions import COOKIE
from services.api.web.settings import WebSettings
from tests.api import Api, serve_api
from tests.e2e.processes import run_lantern
from tests.waiting import HTTP_TIMEOUT

pytestmark = pytest.mark.postgres_only

STAFF_PAGE = "/test-only/staff-page"


def with_a_staff_page(api: Api) -> None:
    """A page only staff may see, as every staff page is guarded (StaffVisit)."""
    router = APIRouter()

    @router.get(STAFF_PAGE)
    async def staff_page(visit: StaffVisit) -> PlainTextResponse:
        return PlainTextResponse(f"for {visit.person.person_id}")

    api.app.include_router(router)


def a_browser(api: Api, token: str | None = None) -> httpx.AsyncClient:
    cookies = {COOKIE: token} if token else None
    return httpx.AsyncClient(
        timeout=HTTP_TIMEOUT, base_url=str(api.http.base_url), cookies=cookies
    )


async def users_create(database_url: str, base: str, email: str, *roles: str) -> str:
    """``lantern users create``, run as a command; its last line, the link."""
    args = ["users", "create", "--email", email, "--name", "Pat Local"]
    for role in roles:
        args += ["--role", role]
    env = {"LANTERN_DATABASE_URL": database_url, "LANTERN_WEB_PUBLIC_URL": base}
    done = await asyncio.to_thread(run_lantern, *args, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


async def email_of(api: Api, person_id: uuid.UUID) -> str:
    async with api.store.engine.connect() as conn:
        email = await conn.scalar(
            select(people.c.email).where(people.c.person_id == person_id)
        )
    return str(email)


async def age_sessions(api: Api, person_id: uuid.UUID, **ages: timedelta) -> None:
    """Move a person's sessions into the past: ``last_seen_at=`` or ``created_at=``."""
    now = datetime.now(UTC)
    async with api.store.engine.begin() as conn:
        await conn.execute(
            update(web_sessions)
            .where(web_sessions.c.person_id == person_id)
            .values({column: now - age for column, age in ages.items()})
        )


class TestLocalAccountLinks:
    async def test_a_created_account_signs_in_once_by_its_link(self, database_url):
        async with serve_api(database_url) as api:
            base = str(api.http.base_url).rstrip("/")
            link = await users_create(database_url, base, "pat@council.test", "staff")
            assert link.startswith(f"{base}/sign-in/link/")
            async with a_browser(api) as browser:
                shown = await browser.get(link)
                assert shown.status_code == 200
                assert '<button type="submit"' in shown.text
                assert "Sign in" in shown.text
                assert COOKIE not in browser.cookies  # opening it signs nobody in
                assert (await browser.get("/")).headers["location"] == "/sign-in"

                used = await browser.post(link)
                assert (used.status_code, used.headers["location"]) == (303, "/")
                assert COOKIE in browser.cookies
                home = await browser.get("/")
                assert home.headers["location"] == "/now"
            async with a_browser(api) as someone_else:
                again = await someone_else.post(link)
                assert again.status_code == 400
                assert "This link cannot be used" in again.text
                assert COOKIE not in someone_else.cookies

    async def test_an_analyst_link_starts_at_the_reports(self, sqlite_database):
        async with serve_api(sqlite_database) as api:
            base = str(api.http.base_url).rstrip("/")
            link = await users_create(
                sqlite_database, base, "an@council.test", "analyst"
            )
            async with a_browser(api) as browser:
                await browser.post(link)
                home = await browser.get("/")
        assert home.headers["location"] == "/reports"

    async def test_an_expired_link_is_refused(self, sqlite_database):
        async with serve_api(sqlite_database) as api:
            people_ = api.app.state.container.web.people
            now = datetime.now(UTC)
            await people_.create_local(
                "old@council.test", "Old Link", frozenset({"staff"}), now
            )
            token = await people_.sign_in_link(
                "old@council.test", now - timedelta(hours=25), timedelta(hours=24)
            )
            fresh = await people_.sign_in_link(
                "old@council.test", now - timedelta(hours=23), timedelta(hours=24)
            )
            async with a_browser(api) as browser:
                refused = await browser.post(f"/sign-in/link/{token}")
                assert refused.status_code == 400
                assert COOKIE not in browser.cookies
                accepted = await browser.post(f"/sign-in/link/{fresh}")
                assert accepted.status_code == 303  # the same account, in time


class TestSignOut:
    async def test_sign_out_needs_the_csrf_token(self, database_url):
        async with serve_api(database_url) as api:
            with_a_staff_page(api)
            b = await api.person("staff")
            token = b.http.cookies[COOKIE]

            refused = await b.http.post("/sign-out", data={})
            assert refused.status_code == 403
            assert "This form could not be sent" in refused.text
            assert (await b.http.get(STAFF_PAGE)).status_code == 200

            forged = await b.http.post("/sign-out", data={"csrf_token": "x" * 43})
            assert forged.status_code == 403
            assert (await b.http.get(STAFF_PAGE)).status_code == 200

            done = await b.submit("/sign-out", {})
            assert (done.status_code, done.headers["location"]) == (
                303,
                "/sign-in?signed-out",
            )
            assert session_cookie(done).startswith(f'{COOKIE}="";')
            async with a_browser(api, token) as old_cookie:
                after = await old_cookie.get(STAFF_PAGE)
            assert (after.status_code, after.headers["location"]) == (303, "/sign-in")


class TestSessionsEnd:
    async def test_an_idle_session_is_sent_to_sign_in(self, database_url):
        async with serve_api(database_url) as api:
            with_a_staff_page(api)
            idle = await api.person("staff")
            busy = await api.person("staff")
            await age_sessions(api, idle.person_id, last_seen_at=timedelta(minutes=61))
            await age_sessions(api, busy.person_id, last_seen_at=timedelta(minutes=59))
            gone = await idle.http.get(STAFF_PAGE)
            still = await busy.http.get(STAFF_PAGE)
        assert (gone.status_code, gone.headers["location"]) == (303, "/sign-in")
        assert still.status_code == 200

    async def test_the_idle_timeout_is_a_setting(self, sqlite_database):
        web = WebSettings(web_idle_minutes=5)
        async with serve_api(sqlite_database, web=web) as api:
            with_a_staff_page(api)
            idle = await api.person("staff")
            await age_sessions(api, idle.person_id, last_seen_at=timedelta(minutes=6))
            gone = await idle.http.get(STAFF_PAGE)
        assert gone.headers["location"] == "/sign-in"

    async def test_a_session_ends_after_its_lifetime_however_used(
        self, sqlite_database
    ):
        async with serve_api(sqlite_database) as api:
            with_a_staff_page(api)
            b = await api.person("staff")
            await age_sessions(
                api, b.person_id, created_at=timedelta(hours=12, seconds=1)
            )
            gone = await b.http.get(STAFF_PAGE)
        assert gone.headers["location"] == "/sign-in"

    async def test_a_disabled_accounts_session_ends(self, database_url):
        async with serve_api(database_url) as api:
            with_a_staff_page(api)
            b = await api.person("staff")
            assert (await b.http.get(STAFF_PAGE)).status_code == 200
            email = await email_of(api, b.person_id)
            env = {"LANTERN_DATABASE_URL": database_url}
            done = await asyncio.to_thread(
                run_lantern, "users", "disable", "--email", email, env=env
            )
            assert done.returncode == 0, done.stderr
            gone = await b.http.get(STAFF_PAGE)
        assert (gone.status_code, gone.headers["location"]) == (303, "/sign-in")

    async def test_signed_out_a_staff_page_goes_to_sign_in(self, sqlite_database):
        async with serve_api(sqlite_database) as api:
            with_a_staff_page(api)
            response = await api.http.get(STAFF_PAGE)
        assert (response.status_code, response.headers["location"]) == (
            303,
            "/sign-in",
        )
        assert "for " not in response.text

    async def test_an_analyst_is_refused_a_staff_page(self, sqlite_database):
        async with serve_api(sqlite_database) as api:
            with_a_staff_page(api)
            analyst = await api.person("analyst")
            response = await analyst.http.get(STAFF_PAGE)
        assert response.status_code == 403
        assert "You cannot see this page" in response.text


def session_cookie(response: httpx.Response) -> str:
    """The Set-Cookie header of the session (others may come with it)."""
    (cookie,) = [
        c for c in response.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}=")
    ]
    return cookie


def cookie_flags(set_cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]}


def samesite(set_cookie: str) -> str:
    parts = [p.strip() for p in set_cookie.split(";")]
    return next(
        p.split("=")[1].lower() for p in parts if p.lower().startswith("samesite")
    )


class TestHeaders:
    async def test_the_session_cookie_is_httponly_and_lax_not_secure_on_http(
        self, sqlite_database
    ):
        async with serve_api(sqlite_database) as api:
            link = await api.app.state.container.web.people.create_local(
                "c@council.test", "C", frozenset({"staff"}), datetime.now(UTC)
            )
            assert link
            token = await api.app.state.container.web.people.sign_in_link(
                "c@council.test", datetime.now(UTC), timedelta(hours=1)
            )
            response = await api.http.post(f"/sign-in/link/{token}")
        cookie = session_cookie(response)
        assert cookie.startswith(f"{COOKIE}=")
        assert {"httponly", "samesite", "path"} <= cookie_flags(cookie)
        assert samesite(cookie) == "lax"
        assert "secure" not in cookie_flags(cookie)

    async def test_the_session_cookie_is_secure_behind_https(self, sqlite_database):
        web = WebSettings(web_public_url="https://lantern.council.test")
        async with serve_api(sqlite_database, web=web) as api:
            people_ = api.app.state.container.web.people
            await people_.create_local(
                "s@council.test", "S", frozenset({"staff"}), datetime.now(UTC)
            )
            token = await people_.sign_in_link(
                "s@council.test", datetime.now(UTC), timedelta(hours=1)
            )
            response = await api.http.post(f"/sign-in/link/{token}")
        cookie = session_cookie(response)
        assert {"httponly", "secure"} <= cookie_flags(cookie)
        assert samesite(cookie) == "lax"

    async def test_a_page_has_a_policy_without_inline_script(self, sqlite_database):
        async with serve_api(sqlite_database) as api:
            page = await api.http.get("/sign-in")
        policy = page.headers["content-security-policy"]
        directives = {
            d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()
        }
        assert directives["script-src"] == ["'self'"]
        assert "'unsafe-inline'" not in directives["script-src"]
        assert "'unsafe-inline'" not in directives.get("default-src", [])
        assert directives["frame-ancestors"] == ["'none'"]
        assert "<script>" not in page.text  # every script is a file
        assert page.headers["cache-control"] == "no-store"
