"""The reports page over real HTTP: the panel report inside the staff's layout, for
a financial quarter chosen on the page, its charts allowed their inline styles and
nothing else inline; analysts see it, and nothing about any one child."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.subscriptions import RetryPolicy
from events.subscriptions.store import StoreSubscription
from services.returns.bootstrap import bootstrap
from services.returns.settings import ReturnsSettings
from tests.api import Api, serve_api
from tests.integration.test_reports import record_world
from tests.reports_world import Ep, Kid, World

pytestmark = pytest.mark.postgres_only

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with serve_api(database_url) as api:
        service = bootstrap(
            ReturnsSettings(),
            api.store,
            subscription=lambda s: StoreSubscription(
                api.store, s, retry=RetryPolicy(attempts=2)
            ),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(service.subscription.run(stop))
        try:
            yield api
        finally:
            stop.set()
            await task


def months_before(day: date, months: int) -> date:
    n = day.year * 12 + day.month - 1 - months
    return date(n // 12, n % 12 + 1, 1)


def quarters() -> tuple[tuple[date, date], tuple[date, date]]:
    """The last whole quarter (January, April, July, October) and the one before."""
    today = datetime.now(UTC).astimezone(LONDON).date()
    this = date(today.year, today.month - (today.month - 1) % 3, 1)
    last, before = months_before(this, 3), months_before(this, 6)
    return (last, this), (before, last)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), LONDON).astimezone(UTC)


def world(last: date, before: date) -> World:
    """Two children in care; three incidents in the last quarter, one before."""
    one, two = "ZQXCHILD1", "ZQXCHILD2"
    kids = [Kid(one, False, "886", [(date(2020, 1, 1), None)]),
            Kid(two, True, "886", [(date(2020, 1, 1), None)])]  # fmt: skip
    days = timedelta(days=1)
    starts = [(one, last + 10 * days), (one, last + 30 * days),
              (two, last + 40 * days), (two, before + 5 * days)]  # fmt: skip
    eps = [
        Ep(f"KNT-{n}", child, "M", noon(day), noon(day) + timedelta(hours=5))
        for n, (child, day) in enumerate(starts)
    ]
    return World(kids, eps)


def figure(html: str, words: str) -> str:
    """The figure's cell for this period in the table of figures."""
    found = re.search(
        rf'<th scope="row">{re.escape(words)}</th><td class="n">([^<]*)<', html
    )
    assert found, words
    return found[1]


async def test_an_analyst_sees_the_figures_and_the_charts(api: Api):
    (last, end), (before, _) = quarters()
    analyst = await api.person("analyst", name="Ana Lyst")  # SQLite: before the
    await record_world(api, world(last, before))  # returns service writes

    page = await analyst.http.get("/reports")

    assert page.status_code == 200
    html = page.text
    assert "<title>Reports \N{EN DASH} Lantern</title>" in html
    assert f'<option value="{last}_{end}" selected>' in html  # the last whole quarter
    assert figure(html, "Incidents (missing and away)") == "3"
    assert figure(html, "Children who went missing") == "2"
    assert figure(html, "Looked-after children") == "2"
    assert html.count("<svg") >= 2 and 'role="img"' in html
    assert "<style" in html.split('<div class="lantern-report">', 1)[1]
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script
    policy = page.headers["content-security-policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy
    assert "ZQXCHILD" not in html and "Taylor" not in html
    assert f'href="/reports/panel.pdf?period={last}_{end}"' in html


async def test_the_period_chooser_changes_the_figures(api: Api):
    (last, _end), (before, _) = quarters()
    staff = await api.person("staff")
    await record_world(api, world(last, before))

    page = await staff.http.get("/reports", params={"period": f"{before}_{last}"})
    unknown = await staff.http.get(
        "/reports", params={"period": "1999-01-01_2027-01-01"}
    )

    assert page.status_code == 200
    assert f'<option value="{before}_{last}" selected>' in page.text
    assert figure(page.text, "Incidents (missing and away)") == "1"
    assert figure(page.text, "Children who went missing") == "1"
    assert unknown.status_code == 400
    assert '<a href="#period">Choose a period from the list</a>' in unknown.text


async def test_the_downloads_are_the_apis_figures_and_a_pdf(api: Api):
    (last, end), (before, _) = quarters()
    analyst = await api.person("analyst")
    await record_world(api, world(last, before))

    figures = await analyst.http.get(f"/reports/panel.json?period={last}_{end}")
    pdf = await analyst.http.get(f"/reports/panel.pdf?period={last}_{end}")
    from_api = await api.get(
        f"/v1/reports/panel?from={last}&to={end}", client="analyst"
    )

    assert figures.status_code == 200
    assert figures.json() == from_api.json()
    assert figures.json()["incidents"] == 3
    assert "attachment" in figures.headers["content-disposition"]
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_an_analyst_cannot_see_childrens_pages(api: Api):
    analyst = await api.person("analyst")
    for path in (
        "/return-interviews",
        "/return-interviews/00000000-0000-0000-0000-000000000001",
    ):
        refused = await analyst.http.get(path)
        assert refused.status_code == 403, path
        assert "You cannot see this page" in refused.text
    menu = (await analyst.http.get("/reports")).text
    assert 'href="/reports"' in menu and 'href="/return-interviews"' not in menu
