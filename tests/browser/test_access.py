"""Who gets in, in a real browser (#20): a signed-out browser is sent to sign in; a
member of staff meets a refusal, not a manager's page; a form posted without its
CSRF token is refused and changes nothing. The sign-in and refusal pages pass axe."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import StartLantern
from tests.browser.harness import assert_accessible, shot, sign_in_with_link

pytestmark = pytest.mark.browser


async def test_signed_out_staff_and_forged_forms(
    lantern_web: StartLantern, page: Page, tmp_path: Path
):
    base = await lantern_web()
    await page.goto(f"{base}/return-interviews")
    await page.wait_for_url(f"{base}/sign-in")
    await expect(page.get_by_role("heading", name="Sign in to Lantern")).to_be_visible()
    await assert_accessible(page)
    await shot(page, "sign-in")

    await sign_in_with_link(page, base, tmp_path / "lantern-0.db", "s@council.test")
    await page.wait_for_url(f"{base}/return-interviews")  # where they were going

    for manager_page in ("/manage/clients", "/manage/recipients"):
        response = await page.goto(f"{base}{manager_page}")
        assert response is not None and response.status == 403, manager_page
        await expect(
            page.get_by_role("heading", name="You cannot see this page")
        ).to_be_visible()
    await assert_accessible(page)
    await expect(page.get_by_role("link", name="API clients")).to_have_count(0)

    await page.goto(f"{base}/now")
    await page.locator("form[action='/sign-out'] input[name='csrf_token']").evaluate(
        "input => input.remove()"
    )  # a form forged elsewhere has no token
    await page.get_by_role("button", name="Sign out").click()
    await expect(
        page.get_by_role("heading", name="This form could not be sent")
    ).to_be_visible()
    await page.goto(f"{base}/now")  # still signed in: nothing was done
    await expect(page.get_by_role("heading", name="Open alerts")).to_be_visible()

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(f"{base}/sign-in?signed-out")
    await expect(page.get_by_text("You have signed out.")).to_be_visible()
    await page.goto(f"{base}/now")
    await page.wait_for_url(f"{base}/sign-in")
