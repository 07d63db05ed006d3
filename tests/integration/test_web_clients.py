"""The managers' API clients page: the list (never a token), creating one (its
token shown once, then working against the API), errors by the field, revoking."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from services.api.tables import api_clients
from tests.api import Api, serve_api

pytestmark = pytest.mark.postgres_only

SERVED = {"kent", "met", "cms", "oncall", "analyst"}
"""The clients serve_api makes."""


async def count_clients(api: Api) -> int:
    async with api.store.engine.connect() as conn:
        return int(
            await conn.scalar(select(func.count()).select_from(api_clients)) or 0
        )


def shown_token(html: str) -> str:
    match = re.search(r'id="token"[^>]*value="(lnt_[^"]+)"', html)
    assert match, html
    return match.group(1)


async def test_staff_and_analysts_cannot_reach_the_page(sqlite_database):
    async with serve_api(sqlite_database) as api:
        staff = await api.person("staff")
        analyst = await api.person("analyst")
        pages = [
            await staff.http.get("/manage/clients"),
            await staff.http.get("/manage/clients/new"),
            await staff.submit(
                "/manage/clients", {"name": "x", "role": "staff", "force": ""}
            ),
            await analyst.http.get("/manage/clients"),
        ]
        anonymous = await api.http.get("/manage/clients")
        total = await count_clients(api)
    assert [p.status_code for p in pages] == [403, 403, 403, 403]
    assert "You cannot see this page" in pages[0].text
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/sign-in")
    assert total == len(SERVED)


async def test_the_list_shows_every_client_and_no_token(database_url):
    async with serve_api(database_url) as api:
        manager = await api.person("manager")
        page = await manager.http.get("/manage/clients")
    assert page.status_code == 200
    assert "<title>API clients \N{EN DASH} Lantern</title>" in page.text
    rows = re.findall(
        r'<th scope="row" class="govuk-table__header">([^<]+)</th>', page.text
    )
    assert set(rows) == SERVED
    assert "KENT" in page.text and "MET" in page.text
    for token in api.tokens.values():
        assert token not in page.text
    assert "lnt_" not in page.text
    assert 'href="/manage/clients"' in page.text  # in the manager's menu


async def test_a_manager_creates_a_client_whose_token_works_once_shown(database_url):
    async with serve_api(database_url) as api:
        manager = await api.person("manager")
        form = await manager.http.get("/manage/clients/new")
        assert 'name="csrf_token"' in form.text
        created = await manager.submit(
            "/manage/clients",
            {"name": "essex-police", "role": "police", "force": "ESSEX"},
        )
        assert created.status_code == 200, created.text
        token = shown_token(created.text)
        assert "Lantern will not show it again" in created.text
        assert created.headers["cache-control"] == "no-store"
        listed = await manager.http.get("/manage/clients")
        assert token not in listed.text
        row = re.search(r"essex-police</th>(.*?)</tr>", listed.text, re.S)
        assert row and "police" in row.group(1) and "ESSEX" in row.group(1)
        assert "Active" in row.group(1)
        answer = await api.http.get(
            "/v1/alerts", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code != 401
        client = await api.clients.authenticate(token)
    assert client is not None
    assert (client.name, client.role, client.police_force) == (
        "essex-police",
        "police",
        "ESSEX",
    )


async def test_bad_input_is_shown_by_the_field_and_creates_nothing(sqlite_database):
    async with serve_api(sqlite_database) as api:
        manager = await api.person("manager")
        before = await count_clients(api)
        cases = {
            ("", "staff", ""): {"name": "Enter a name for the client"},
            ("new", "", ""): {"role": "Select the client's role"},
            ("new", "police", ""): {
                "force": "Enter the police force of a police client"
            },
            ("new", "staff", "KENT"): {
                "force": "Only a police client has a police force: leave it empty"
            },
            ("Bad Name!", "bogus", ""): {
                "name": "Name must be up to 100 lower-case letters, digits, dots, "
                "dashes or underscores, starting with a letter or digit",
                "role": "Select the client's role",
            },
            ("kent", "staff", ""): {
                "name": "A client with this name exists already: choose another name"
            },
        }
        answers = {}
        for name, role, force in cases:
            answers[name, role, force] = await manager.submit(
                "/manage/clients", {"name": name, "role": role, "force": force}
            )
        after = await count_clients(api)
    assert after == before
    for case, expected in cases.items():
        page = answers[case]
        assert page.status_code == 400, case
        assert page.text.count("<title>Error: Create an API client") == 1
        summary = re.findall(r'<li><a href="#([a-z]+)">([^<]+)</a></li>', page.text)
        assert {f: html.unescape(m) for f, m in summary} == expected, case
        for field, message in expected.items():
            by_field = re.search(
                rf'<p id="{field}-error" class="govuk-error-message">'
                rf'<span class="govuk-visually-hidden">Error:</span> ([^<]+)</p>',
                page.text,
            )
            assert by_field, (case, field)
            assert html.unescape(by_field.group(1)) == message, (case, field)
            assert f'id="{field}"' in page.text  # the summary's link lands
        assert "lnt_" not in page.text
    kept = answers["new", "police", ""].text
    assert 'value="new"' in kept and 'value="police" checked' in kept


async def test_a_form_without_its_csrf_token_creates_nothing(sqlite_database):
    async with serve_api(sqlite_database) as api:
        manager = await api.person("manager")
        before = await count_clients(api)
        refused = await manager.http.post(
            "/manage/clients", data={"name": "sneaky", "role": "staff", "force": ""}
        )
        after = await count_clients(api)
    assert refused.status_code == 403
    assert after == before


async def test_a_manager_revokes_a_client_after_confirming(database_url):
    async with serve_api(database_url) as api:
        manager = await api.person("manager")
        listed = await manager.http.get("/manage/clients")
        link = re.search(
            r'href="(/manage/clients/[0-9a-f-]+/revoke)">Revoke'
            r'<span class="govuk-visually-hidden"> met</span>',
            listed.text,
        )
        assert link
        confirm = await manager.http.get(link.group(1))
        assert confirm.status_code == 200
        assert "Revoke met?" in confirm.text
        assert await api.clients.authenticate(api.tokens["met"]) is not None

        no_csrf = await manager.http.post(link.group(1), data={})
        assert no_csrf.status_code == 403
        api.clients._cache.clear()  # its 5 s cache: the database is the truth
        assert await api.clients.authenticate(api.tokens["met"]) is not None

        done = await manager.submit(link.group(1), {})
        assert (done.status_code, done.headers["location"]) == (
            303,
            "/manage/clients?revoked",
        )
        api.clients._cache.clear()
        assert await api.clients.authenticate(api.tokens["met"]) is None
        assert await api.clients.authenticate(api.tokens["kent"]) is not None
        after = await manager.http.get("/manage/clients?revoked")
    row = re.search(r">met</th>(.*?)</tr>", after.text, re.S)
    assert row and "Revoked" in row.group(1) and "/revoke" not in row.group(1)
    assert "The client was revoked" in after.text
