"""The return interview form and the reports page in a real browser, against
`lantern run`: a member of staff records an interview with one bad field first (the
error by the field, nothing recorded), then corrects it; axe-core on each page;
screenshots for the docs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page

from tests.browser.conftest import StartLantern
from tests.browser.harness import (
    PHONE,
    assert_accessible,
    lantern_command,
    shot,
    sign_in_with_link,
)
from tests.waiting import HTTP_TIMEOUT, eventually

pytestmark = pytest.mark.browser
LONDON = ZoneInfo("Europe/London")


async def returned_child(base: str, database: Path) -> tuple[str, dict[str, str]]:
    police = await lantern_command(
        database,
        "clients",
        "create",
        "--name",
        "kent",
        "--role",
        "police",
        "--force",
        "KENT",
    )
    staff = await lantern_command(
        database, "clients", "create", "--name", "oncall", "--role", "staff"
    )
    cms = await lantern_command(
        database, "clients", "create", "--name", "cms", "--role", "integrator"
    )
    child = {
        "given_name": "Sam", "family_name": "Taylor", "date_of_birth": "2011-05-14",
        "looked_after": True, "uasc": False, "placing_authority": "886", "ola": False,
        "care_periods": [{"start_date": "2024-01-01", "end_date": None}],
    }  # fmt: skip
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, base_url=base) as http:
        put = await http.put(
            "/v1/children/C1", json=child, headers={"Authorization": f"Bearer {cms}"}
        )
        assert put.is_success, put.text
    now = datetime.now(UTC).replace(microsecond=0)
    report = {
        "police_force": "KENT", "police_reference": "KNT-1",
        "reported_at": (now - timedelta(hours=5)).isoformat(),
        "missing_since": (now - timedelta(hours=6)).isoformat(),
        "episode_type": "missing", "police_risk_grade": "medium",
        "child": {"given_name": "Sam", "family_name": "Taylor", "la_child_id": "C1",
                  "date_of_birth": "2011-05-14", "gender": "female"},
        "placement": {"placing_authority": "886", "placement_type": "childrens_home"},
        "circumstances": "Did not return from school",
    }  # fmt: skip
    as_staff = {"Authorization": f"Bearer {staff}"}
    async with httpx.AsyncClient(
        timeout=HTTP_TIMEOUT,
        base_url=base,
        headers={"Authorization": f"Bearer {police}"},
    ) as http:
        made = await http.post("/v1/missing-reports", json=report)
        assert made.status_code == 202, made.text
        episode = made.json()["episode_id"]
        found = {"found_at": (now - timedelta(hours=2)).isoformat(),
                 "returned_to": "placement", "safe_and_well_check": True}  # fmt: skip
        assert (await http.post(f"/v1/episodes/{episode}/found", json=found)).is_success

        async def opened() -> bool:
            path = f"/v1/episodes/{episode}/return-interview"
            return (await http.get(path, headers=as_staff)).status_code == 200

        await eventually(opened, what="the interview opened")
    return episode, as_staff


async def interview(base: str, episode: str, headers: dict[str, str]) -> Any:
    async with httpx.AsyncClient(
        timeout=HTTP_TIMEOUT, base_url=base, headers=headers
    ) as http:
        got = await http.get(f"/v1/episodes/{episode}/return-interview")
    return got.json()


async def fill_when(page: Page, name: str, at: datetime) -> None:
    local = at.astimezone(LONDON)
    await page.fill(f"#{name}-day", str(local.day))
    await page.fill(f"#{name}-month", str(local.month))
    await page.fill(f"#{name}-year", str(local.year))
    await page.fill(f"#{name}-time", f"{local:%H:%M}")


async def test_record_an_interview_with_a_bad_field_first(
    lantern_web: StartLantern, page: Page, tmp_path: Path
):
    base = await lantern_web()
    database = tmp_path / "lantern-0.db"
    episode, as_staff = await returned_child(base, database)
    await sign_in_with_link(page, base, database, "staff@council.test")

    await page.goto(f"{base}/return-interviews")
    await page.get_by_role("link", name="Record the interview of Sam Taylor").wait_for()
    await assert_accessible(page)
    await shot(page, "interviews")

    await page.get_by_role("link", name="Record the interview of Sam Taylor").click()
    await page.check("#offered")  # Yes
    now = datetime.now(UTC)
    await fill_when(page, "offered_at", now - timedelta(hours=1))
    await page.check("#offered_by-2")  # an independent provider
    await page.check("#accepted")  # Yes
    await fill_when(page, "completed_at", now + timedelta(days=2))  # the bad field
    await page.get_by_label("Seeking contact with family").check()
    await page.fill("#notes", "Went to see her brother.")
    await page.get_by_role("button", name="Save the return interview").click()

    error = page.locator("#completed_at-error")
    await error.wait_for()
    assert "Date completed is in the future" in await error.inner_text()
    summary = page.locator(".govuk-error-summary a[href='#completed_at-day']")
    assert await summary.inner_text() == "Date completed is in the future"
    assert await page.input_value("#notes") == "Went to see her brother."
    assert (await interview(base, episode, as_staff))["offered"] is False
    await assert_accessible(page)
    await shot(page, "interview-form-error")
    await page.set_viewport_size(PHONE)
    await shot(page, "interview-form-phone")

    await fill_when(page, "completed_at", now - timedelta(minutes=30))
    await page.get_by_role("button", name="Save the return interview").click()
    await page.get_by_text("Return interview recorded").wait_for()
    recorded = await interview(base, episode, as_staff)
    assert recorded["status"] == "completed"
    assert recorded["reasons"] == ["family_friends_contact"]

    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto(f"{base}/reports")
    await page.select_option("#period", index=0)  # this quarter, so far
    await page.get_by_role("button", name="Show the report").click()
    await page.get_by_role("heading", name="Return interviews").wait_for()
    await page.get_by_role("link", name="Download the report as a PDF").wait_for()
    row = page.get_by_role("row", name="Looked-after children 1")
    await row.first.wait_for()  # the child in care counted
    assert await page.locator(".lantern-report svg").count() >= 1
    assert "/reports?period=" in page.url
    await assert_accessible(page)
    await shot(page, "reports")
