"""The "Now" page in a real browser (#20): a member of staff signed in with a local
account's one-time link keeps the page open; a police client's report appears on it
within seconds with no reload; one click acknowledges it; the page has no serious
accessibility problem, on a desktop and on a phone."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.api import a_report_body
from tests.browser.conftest import StartLantern
from tests.browser.harness import assert_accessible, shot
from tests.e2e.processes import LANTERN

pytestmark = pytest.mark.browser


async def lantern(database: Path, *args: str) -> str:
    """A ``lantern`` command on the database of the running process: its last line."""
    env = {**os.environ, "LANTERN_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    process = await asyncio.create_subprocess_exec(
        LANTERN, *args, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out
    return out.decode().strip().splitlines()[-1]


async def signed_in(
    page: Page, base: str, database: Path, email: str, role: str = "staff"
) -> None:
    link = await lantern(
        database, "users", "create", "--email", email, "--role", role,
        "--name", "Alex Duty",
    )  # fmt: skip
    await page.goto(base + urlsplit(link).path)
    button = page.get_by_role("button", name="Sign in")
    if await button.count():  # the link's page asks to confirm
        await button.first.click()
    await page.wait_for_url(lambda url: "/sign-in" not in url)


async def test_a_police_report_appears_live_and_is_acknowledged(
    lantern_web: StartLantern, page: Page, phone_page: Page, tmp_path: Path
):
    base = await lantern_web()
    database = tmp_path / "lantern-0.db"
    kent = await lantern(database, "clients", "create", "--name", "kent",
                         "--role", "police", "--force", "KENT")  # fmt: skip
    cms = await lantern(database, "clients", "create", "--name", "cms",
                        "--role", "integrator")  # fmt: skip
    async with httpx.AsyncClient(base_url=base) as http:
        duty = {"kind": "duty_team", "name": "Duty desk", "email": "duty@council.test"}
        put = await http.put(
            "/v1/recipients/duty", json=duty, headers={"Authorization": f"Bearer {cms}"}
        )
        assert put.status_code == 201, put.text

        await signed_in(page, base, database, "alex@council.test")
        await page.goto(f"{base}/now")
        await expect(page.get_by_text("No open alerts")).to_be_visible()
        await expect(page.locator("html[data-live-ready]")).to_have_count(1)

        report = await http.post(
            "/v1/missing-reports",
            json=a_report_body("KNT-LIVE-1"),
            headers={"Authorization": f"Bearer {kent}"},
        )
        assert report.status_code == 202, report.text
        card = page.locator(".lantern-alert", has_text="KNT-LIVE-1")
        await expect(card).to_be_visible(timeout=10_000)  # no reload
        await expect(
            card.get_by_role("heading", name="Sam T. KNT-LIVE-1")
        ).to_be_visible()
        await expect(card.locator(".govuk-tag", has_text="risk")).to_be_visible()
        await expect(page.locator("#now-status")).to_have_text("Alerts updated")
        await assert_accessible(page)
        await shot(page, "now-desktop")

        await signed_in(phone_page, base, database, "sam@council.test")
        await phone_page.goto(f"{base}/now")
        phone_card = phone_page.locator(".lantern-alert", has_text="KNT-LIVE-1")
        await expect(phone_card).to_be_visible()
        width = await phone_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width}px wide on a 390px phone"
        await assert_accessible(phone_page)
        await shot(phone_page, "now-phone")

        await card.get_by_role("button", name="Acknowledge").click()
        await page.wait_for_url(f"{base}/now?acknowledged=1")
        await expect(page.get_by_text("Alert acknowledged")).to_be_visible()
        await expect(
            page.locator(".lantern-alert", has_text="KNT-LIVE-1")
        ).to_have_count(0)
        # the other open page drops it too, live
        await expect(phone_card).to_have_count(0, timeout=10_000)

        episode_id = report.json()["episode_id"]
        police = await http.get(
            f"/v1/episodes/{episode_id}", headers={"Authorization": f"Bearer {kent}"}
        )
        assert [a["role"] for a in police.json()["acknowledgements"]] == ["duty_team"]


async def test_a_manager_reads_the_recipients(
    lantern_web: StartLantern, phone_page: Page, tmp_path: Path
):
    base = await lantern_web()
    database = tmp_path / "lantern-0.db"
    cms = await lantern(database, "clients", "create", "--name", "cms",
                        "--role", "integrator")  # fmt: skip
    async with httpx.AsyncClient(base_url=base) as http:
        for recipient_id, body in {
            "duty": {"kind": "duty_team", "name": "Duty desk",
                     "email": "duty.desk@council.test", "phone": "07700 900123"},
            "tm-west": {"kind": "team_manager", "key": "CiC West",
                        "name": "Team manager, West", "email": "tm.west@council.test"},
        }.items():  # fmt: skip
            put = await http.put(
                f"/v1/recipients/{recipient_id}",
                json=body,
                headers={"Authorization": f"Bearer {cms}"},
            )
            assert put.status_code == 201, put.text
    await signed_in(phone_page, base, database, "m@council.test", role="manager")
    await phone_page.goto(f"{base}/manage/recipients")
    await expect(phone_page.get_by_text("d…@council.test")).to_be_visible()
    await expect(phone_page.get_by_text("Team manager (CiC West)")).to_be_visible()
    assert "duty.desk@" not in await phone_page.content()
    width = await phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"
    await assert_accessible(phone_page)
    await shot(phone_page, "recipients-phone")
