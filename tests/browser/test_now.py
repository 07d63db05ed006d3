"""The "Now" page in a real browser (#20): a member of staff signed in through the
council's OpenID Connect provider keeps the page open; a police client's report
appears on it within seconds with no reload; one click acknowledges it, and the
police client's view shows it acknowledged; the page has no serious accessibility
problem, on a desktop and on a phone (signed in there with a local account's link)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.api import a_report_body
from tests.browser.conftest import StartLantern
from tests.browser.harness import (
    assert_accessible,
    lantern_command,
    shot,
    sign_in_at_provider,
    sign_in_with_link,
)
from tests.e2e.processes import free_port
from tests.oidc_provider import OidcProvider
from tests.waiting import HTTP_TIMEOUT

pytestmark = pytest.mark.browser


async def test_a_police_report_appears_live_and_is_acknowledged(
    lantern_web: StartLantern,
    oidc_provider: OidcProvider,
    page: Page,
    phone_page: Page,
    tmp_path: Path,
):
    port = free_port()
    callback = f"http://127.0.0.1:{port}/sign-in/callback"
    client = await oidc_provider.register_client([callback])
    base = await lantern_web(
        {
            "LANTERN_WEB_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "LANTERN_OIDC_ISSUER": oidc_provider.issuer,
            "LANTERN_OIDC_CLIENT_ID": client.client_id,
            "LANTERN_OIDC_CLIENT_SECRET": client.client_secret,
        },
        port=port,
    )
    database = tmp_path / "lantern-0.db"
    kent = await lantern_command(database, "clients", "create", "--name", "kent",
                         "--role", "police", "--force", "KENT")  # fmt: skip
    cms = await lantern_command(database, "clients", "create", "--name", "cms",
                        "--role", "integrator")  # fmt: skip
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, base_url=base) as http:
        duty = {"kind": "duty_team", "name": "Duty desk", "email": "duty@council.test"}
        put = await http.put(
            "/v1/recipients/duty", json=duty, headers={"Authorization": f"Bearer {cms}"}
        )
        assert put.status_code == 201, put.text

        await page.goto(f"{base}/now")  # signed out: sent to sign in
        await page.wait_for_url(f"{base}/sign-in")
        await page.get_by_role(
            "button", name="Sign in with your council account"
        ).click()
        await sign_in_at_provider(
            page, oidc_provider, "alex-1", "alex@council.test", ["lantern-staff"],
            name="Alex Duty",
        )  # fmt: skip
        await page.wait_for_url(f"{base}/now")
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

        await sign_in_with_link(phone_page, base, database, "sam@council.test")
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
    cms = await lantern_command(database, "clients", "create", "--name", "cms",
                        "--role", "integrator")  # fmt: skip
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, base_url=base) as http:
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
    await sign_in_with_link(
        phone_page, base, database, "m@council.test", role="manager"
    )
    await phone_page.goto(f"{base}/manage/recipients")
    await expect(phone_page.get_by_text("d…@council.test")).to_be_visible()
    await expect(phone_page.get_by_text("Team manager (CiC West)")).to_be_visible()
    assert "duty.desk@" not in await phone_page.content()
    width = await phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"
    await assert_accessible(phone_page)
    await shot(phone_page, "recipients-phone")
