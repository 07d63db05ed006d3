"""The browser harness itself: chromium, screenshots, axe-core, the OIDC provider."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.browser.conftest import StartLantern
from tests.browser.harness import (
    assert_accessible,
    shot,
)

pytestmark = pytest.mark.browser

ACCESSIBLE = """<!doctype html>
<html lang="en"><head><title>Sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main>
  <h1>Sign in</h1>
  <form><label for="email">Email address</label>
    <input id="email" name="email" type="email" autocomplete="email">
    <button type="submit">Continue</button></form>
  <a href="/"><img src="data:," alt="Lantern home"></a>
</main></body></html>"""

INACCESSIBLE = """<!doctype html>
<html lang="en"><head><title>Sign in</title></head>
<body><main>
  <a href="/"><img src="data:,"></a>
  <input name="email" type="email">
</main></body></html>"""


async def test_lantern_docs_open_in_chromium(lantern_web: StartLantern, page: Page):
    base = await lantern_web()

    await page.goto(f"{base}/docs")
    await page.locator(".swagger-ui .title").first.wait_for()

    assert "Lantern" in await page.title()
    assert (await shot(page, "harness-docs")).stat().st_size > 0


async def test_phone_viewport(phone_page: Page):
    await phone_page.set_content(ACCESSIBLE)

    assert phone_page.viewport_size == {"width": 390, "height": 844}
    assert await phone_page.evaluate("window.innerWidth") == 390


async def test_an_accessible_page_passes(page: Page):
    await page.set_content(ACCESSIBLE)

    await assert_accessible(page)


async def test_an_inaccessible_page_fails_naming_each_violation(page: Page):
    await page.set_content(INACCESSIBLE)

    with pytest.raises(AssertionError) as failure:
        await assert_accessible(page)

    message = str(failure.value)
    assert "link-name (serious)" in message
    assert "label (critical)" in message
    assert "at ['input']" in message
