"""The panel report over real HTTP, on SQLite and PostgreSQL: a world of children,
episodes and interviews posted through the API as the police, the council's
case-management system and its staff post them (the returns service running to open
the interviews), then the report read as an analyst and checked against the plain
computation of tests/reports_world.py; the same after a rebuild of the read models."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from events.contracts.children import FamilyGroupConferenceRecorded
from events.envelope import NewEvent
from events.store import Append, Commit
from events.subscriptions import RetryPolicy
from events.subscriptions.store import StoreSubscription
from services.returns.bootstrap import bootstrap
from services.returns.settings import ReturnsSettings
from tests.api import Api, a_report_body, serve_api
from tests.reports_world import (
    PERIOD,
    Ep,
    Kid,
    World,
    edges,
    expected,
    generate,
    merged,
)
from tests.waiting import eventually

NOW = datetime.now(UTC).replace(microsecond=0)
BENCHMARKS = {"incidents_per_looked_after_child": {"England": 0.79, "South East": 0.75}}
KIND = {"M": "missing", "A": "away"}


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


async def ok(response: Any, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201, 202)), response.text
    return response.json() if response.content else None


async def record_child(api: Api, kid: Kid) -> None:
    body = {
        "given_name": "Child", "family_name": kid.id, "date_of_birth": "2010-01-01",
        "looked_after": True, "uasc": kid.uasc, "placing_authority": kid.placing,
        "ola": kid.placing != "886",
        "care_periods": [
            {"start_date": s.isoformat(), "end_date": e and e.isoformat()}
            for s, e in kid.periods
        ],
    }  # fmt: skip
    await ok(
        await api.http.put(f"/v1/children/{kid.id}", json=body, headers=api.auth("cms"))
    )


async def record_episode(api: Api, ep: Ep) -> None:
    body = a_report_body(
        ep.id,
        missing_since=ep.start.isoformat(),
        reported_at=(ep.start + timedelta(minutes=10)).isoformat(),
        episode_type=KIND[ep.reported_as],
    )
    body["child"].update(la_child_id=ep.child, family_name=ep.child)
    episode = (await ok(await api.post("/v1/missing-reports", body)))["episode_id"]
    if ep.reported_as != ep.kind:
        change = {"episode_type": KIND[ep.kind], "reason": "Whereabouts learnt"}
        path = f"/v1/episodes/{episode}/reclassification"
        await ok(await api.post(path, change, client="oncall"))
    if ep.in_error or ep.cancelled:
        reason = "reported_in_error" if ep.in_error else "cancelled"
        path = f"/v1/episodes/{episode}/withdrawal"
        await ok(await api.post(path, {"reason": reason}))
    if ep.end is None:
        return
    found = {"found_at": ep.end.isoformat(), "returned_to": "placement",
             "safe_and_well_check": True}  # fmt: skip
    await ok(await api.post(f"/v1/episodes/{episode}/found", found))
    if ep.offered:
        await record_interview(api, episode, ep)


async def record_interview(api: Api, episode: str, ep: Ep) -> None:
    path = f"/v1/episodes/{episode}/return-interview"

    async def opened() -> bool:
        return (await api.get(path, client="oncall")).status_code == 200

    await eventually(opened, what="interview opened")
    assert ep.end is not None
    body = {
        "offered": True,
        "offered_at": (ep.end + timedelta(hours=1)).isoformat(),
        "offered_by": "social_worker",
        "accepted": ep.accepted,
        "completed_at": ep.completed and ep.completed.isoformat(),
        "reasons": ep.reasons,
        "concerns": [],
    }
    await ok(await api.http.put(path, json=body, headers=api.auth("oncall")))


async def record_world(api: Api, world: World) -> None:
    for kid in world.kids:
        await record_child(api, kid)
    for ep in sorted(world.eps, key=lambda e: e.start):
        await record_episode(api, ep)
    for child, held in world.conferences:
        event = FamilyGroupConferenceRecorded(la_child_id=child, held_on=held)
        append = Append(f"child-{child}", [NewEvent(event=event)])
        await api.store.commit(Commit([append]))


def world() -> World:
    return merged(
        edges(),
        generate(7, kids=14, first=date(2024, 3, 1), last=date(2026, 9, 1), now=NOW),
    )


async def panel(api: Api, start: date, end: date, client: str = "analyst") -> Any:
    query = f"from={start.isoformat()}&to={end.isoformat()}"
    return await ok(await api.get(f"/v1/reports/panel?{query}", client=client))


async def test_the_panel_report_over_http_is_the_definitions(api: Api):
    w = world()
    await record_world(api, w)
    for start, end in (PERIOD, (date(2025, 10, 26), date(2026, 3, 29))):
        want = expected(w, start, end, BENCHMARKS)
        assert await panel(api, start, end) == want
        assert await panel(api, start, end, client="oncall") == want
    first = await panel(api, *PERIOD)
    assert await api.store.rebuild_projections() > 0
    assert await panel(api, *PERIOD) == first


async def test_no_data_at_all_answers_nulls(api: Api):
    got = await panel(api, *PERIOD)
    assert got == expected(World(), *PERIOD, BENCHMARKS)
    assert got["children_missing_pct"] is None


async def test_no_child_is_named_or_identified(api: Api):
    w = edges()
    await record_world(api, w)
    text = (await api.get("/v1/reports/panel?from=2025-06-01&to=2026-06-01",
                          client="analyst")).text  # fmt: skip
    assert not [k.id for k in w.kids if f'"{k.id}"' in text or k.id + "-" in text]
    assert "Child" not in text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "from"),
        ("from=2026-01-01", "to"),
        ("to=2026-01-01", "from"),
        ("from=2026-13-01&to=2027-01-01", "from"),
        ("from=2026-01-01&to=20260201", "to"),
        ("from=2026-02-01&to=2026-01-01", "to"),
        ("from=2026-02-01&to=2026-02-01", "to"),
        ("from=0001-01-01&to=0001-01-02", "from"),
        ("from=2026-01-01&to=9999-12-31", "to"),
        ("from=2000-01-01&to=2026-01-01", "to"),
    ],
)
async def test_bad_dates_are_a_422_naming_the_field(api: Api, query: str, field: str):
    response = await api.get(f"/v1/reports/panel?{query}", client="analyst")
    assert response.status_code == 422, response.text
    assert field in [p["field"] for p in response.json()["detail"]]


async def test_the_analyst_reads_reports_and_nothing_else(api: Api):
    assert (await api.get("/v1/episodes", client="analyst")).status_code == 403
    assert (await api.get("/v1/alerts", client="analyst")).status_code == 403
    query = "/v1/reports/panel?from=2026-01-01&to=2026-02-01"
    assert (await api.get(query, client="kent")).status_code == 403
    assert (await api.get(query, client="cms")).status_code == 403


HEADLINE = {
    "Looked-after children": "looked_after_children",
    "Incidents (missing and away)": "incidents",
    "Children who went missing": "children_missing",
    "Share of looked-after children who went missing": "children_missing_pct",
    "Missing children with one or two incidents": "one_or_two_episodes_pct",
    "Incidents per looked-after child": "incidents_per_looked_after_child",
    "Incidents per missing child": "incidents_per_missing_child",
    "Return interviews offered": "rhi_offered_pct",
    "Return interviews completed within 3 working days": "rhi_completed_in_time_pct",
}
"""Rows of the page's first table, by the words a reader sees."""


def shown(name: str, value: float | None) -> str:
    """A figure as the page must show it: 21.8%, 0.71, 1,236, a dash for none."""
    if value is None:
        return "\u2013"
    if name.endswith("_pct"):
        return f"{value:.1f}%"
    return f"{value:.2f}" if isinstance(value, float) else f"{value:,}"


def headline_rows(html: str) -> dict[str, tuple[str, str]]:
    """Each row of the first table: this period's and the previous period's cell."""
    table = html[html.index("<table>") : html.index("</table>")]
    cells = re.findall(
        r'<th scope="row">([^<]+)</th><td class="n">([^<]+)</td>\s*'
        r'<td class="n">([^<]+)</td>',
        table,
    )
    return {words: (now, then) for words, now, then in cells}


def charts_of(html: str) -> list[str]:
    """The title of each inline SVG chart (its first child, for screen readers)."""
    return re.findall(r'<svg [^>]*role="img"[^>]*><title>([^<]+)</title>', html)


async def page(api: Api, start: date, end: date, client: str = "analyst") -> Any:
    query = f"from={start.isoformat()}&to={end.isoformat()}&format=html"
    return await api.get(f"/v1/reports/panel?{query}", client=client)


async def test_the_page_shows_the_figures_the_charts_and_the_findings(api: Api):
    w = edges()
    await record_world(api, w)
    want = expected(w, *PERIOD, BENCHMARKS)
    response = await page(api, *PERIOD)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    rows = headline_rows(html)
    assert rows == {
        words: (shown(name, want[name]), shown(name, want["previous"][name]))
        for words, name in HEADLINE.items()
    } | {words: rows[words] for words in rows.keys() - HEADLINE.keys()}
    assert len(rows) == 13
    assert charts_of(html) == [
        "Looked-after children missing each month, citizen and UASC",
        "Reasons citizen children gave for going missing",
        "Return interviews offered, accepted and completed in time",
        "Incidents per looked-after child against the benchmarks",
    ]
    assert "What is working well" in html
    assert "What are we worried about" in html
    assert "<li>" in html[html.index("What is working well") :]
    assert "<script" not in html
    assert "http://" not in html.replace("http://www.w3.org/", "")
    assert "https://" not in html


async def test_the_page_names_and_identifies_no_child(api: Api):
    w = edges()
    await record_world(api, w)
    html = (await page(api, *PERIOD)).text
    ids = [k.id for k in w.kids] + [e.id for e in w.eps]
    assert [
        i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", html)
    ] == []


async def test_with_no_data_the_page_says_so_rather_than_draw_empty_frames(api: Api):
    response = await page(api, *PERIOD)
    assert response.status_code == 200
    html = response.text
    assert charts_of(html) == []
    assert "No episodes in this period or the previous one." in html
    assert "No looked-after children in this period." in html
    assert headline_rows(html)["Share of looked-after children who went missing"] == (
        "\u2013",
        "\u2013",
    )


async def test_the_page_is_for_analysts_and_staff_only(api: Api):
    assert (await page(api, *PERIOD, client="oncall")).status_code == 200
    assert (await page(api, *PERIOD, client="kent")).status_code == 403
    assert (await page(api, *PERIOD, client="cms")).status_code == 403
    query = "/v1/reports/panel?from=2026-01-01&to=2026-02-01&format=html"
    assert (await api.http.get(query)).status_code == 401


async def test_an_unknown_format_is_a_422_naming_it(api: Api):
    query = "/v1/reports/panel?from=2026-01-01&to=2026-02-01&format=xml"
    response = await api.get(query, client="analyst")
    assert response.status_code == 422, response.text
    assert "format" in [p["field"] for p in response.json()["detail"]]
