"""Children who frequently go missing (GET /frequently-missing). The definition,
restated: a child is frequently missing with 3 or more *missing* episodes (away
ones and reports withdrawn as made in error do not count) that started in the 90
days up to now (triage's policy file, ``FrequentlyMissing``). The strategy
discussions it prompts stay on the page until someone acknowledges them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from services.notifier.tables import alerts
from services.triage.policy_file import load_policy
from tests.api import a_report_body
from tests.integration.test_follow_ups import NOW, Rig, a_rig

CHILD = re.compile(
    r'<section class="lantern-child".*?<h3[^>]*>(?P<name>[^<,]*)(?:, (?P<age>\d+))?'
    r"</h3>.*?<strong>(?P<count>\d+)</strong> missing episodes?.*?</section>",
    re.S,
)


def children(page: str) -> dict[str, tuple[int, str]]:
    """By name: the count shown, and the child's section."""
    return {m["name"]: (int(m["count"]), m[0]) for m in CHILD.finditer(page)}


async def other_child(rig: Rig, days_ago: float, **overrides: Any) -> str:
    since = NOW - timedelta(days=days_ago)
    body = a_report_body(
        f"KNT-R{days_ago}",
        missing_since=since.isoformat(),
        reported_at=(since + timedelta(minutes=30)).isoformat(),
        child={"given_name": "Ria", "family_name": "Patel",
               "date_of_birth": "2010-02-01", "gender": "female"},
        **overrides,
    )  # fmt: skip
    response = await rig.api.post("/v1/missing-reports", body)
    assert response.status_code == 202, response.text
    return str(response.json()["episode_id"])


async def open_prompts(rig: Rig) -> list[Any]:
    query = select(alerts).where(
        alerts.c.matter == "strategy_discussion", alerts.c.status == "open"
    )
    return list(await rig.api.store.select(query))


async def test_children_over_the_threshold_and_prompts_not_acted_on(database_url):
    rule = load_policy().frequently_missing
    assert (rule.episodes, rule.days) == (3, 90)  # the definition restated above
    async with a_rig(database_url) as rig:
        staff = await rig.api.person("staff")
        sam = [await rig.episode(NOW - timedelta(days=days)) for days in (80, 40, 0.1)]
        # Ria: 4 episodes, only 2 of them missing episodes in the window.
        await other_child(rig, 100)  # before the window
        await other_child(rig, 60, episode_type="away")  # away: not counted
        await other_child(rig, 30)
        await other_child(rig, 5)
        await rig.settled()

        page = (await staff.http.get("/frequently-missing")).text
        listed = children(page)
        assert set(listed) == {"Sam Taylor"}
        count, section = listed["Sam Taylor"]
        assert count == 3
        for episode in sam:
            assert f'href="/episodes/{episode}"' in section
        assert "3 or more missing episodes in 90 days" in page
        assert "<title>Children who frequently go missing" in page

        # Crossing the threshold prompted strategy discussions: each still open
        # is listed, until acknowledged.
        prompts = await open_prompts(rig)
        assert prompts, "crossing the threshold prompted nobody"
        assert page.count('class="govuk-table__row lantern-prompt"') == len(prompts)
        duty = next(p for p in prompts if p.role != "mcet")  # a council one
        acked = await rig.api.post(
            f"/v1/alerts/{duty.alert_id}/ack", {}, client="oncall"
        )
        assert acked.status_code == 200, acked.text
        page = (await staff.http.get("/frequently-missing")).text
        left = await open_prompts(rig)
        assert len(left) == len(prompts) - 1
        assert page.count('class="govuk-table__row lantern-prompt"') == len(left)
        assert "@" not in page  # no contact details


async def test_no_child_over_the_threshold(database_url):
    async with a_rig(database_url) as rig:
        staff = await rig.api.person("staff")
        for days in (100, 30):
            await rig.episode(NOW - timedelta(days=days))
        await rig.settled()
        page = (await staff.http.get("/frequently-missing")).text
        assert children(page) == {}
        assert "No child is over the threshold now." in page
        assert "no strategy-discussion prompt is open" in page


async def test_analysts_may_not_see_it(database_url):
    async with a_rig(database_url) as rig:
        analyst = await rig.api.person("analyst")
        response = await analyst.http.get("/frequently-missing")
        assert response.status_code == 403
