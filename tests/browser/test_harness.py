"""The browser harness itself: chromium, screenshots, axe-core, the OIDC provider."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from playwright.async_api import Page

from tests.browser.conftest import StartLantern
from tests.browser.harness import (
    OidcProvider,
    assert_accessible,
    shot,
    sign_in_at_provider,
)
from tests.e2e.processes import free_port

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


async def test_the_oidc_provider_signs_a_user_in_with_groups(
    oidc_provider: OidcProvider, page: Page
):
    async with httpx.AsyncClient() as http:
        discovery = (await http.get(oidc_provider.discovery_url)).json()
    assert discovery["issuer"] == oidc_provider.issuer
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"  # nothing listens
    client = await oidc_provider.register_client([redirect_uri])

    await page.goto(
        f"{discovery['authorization_endpoint']}?"
        + urlencode(
            {
                "client_id": client.client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": "openid email",
                "state": "s1",
                "nonce": "n1",
            }
        )
    )
    async with page.expect_request(lambda r: r.url.startswith(redirect_uri)) as back:
        await sign_in_at_provider(
            page, "ada.worker", "ada.worker@kent.example", ["lantern-staff", "duty"]
        )

    query = parse_qs(urlsplit((await back.value).url).query)
    assert query["state"] == ["s1"]
    async with httpx.AsyncClient() as http:
        tokens = (
            await http.post(
                discovery["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": query["code"][0],
                    "redirect_uri": redirect_uri,
                },
                auth=(client.client_id, client.client_secret),
            )
        ).json()
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["iss"] == oidc_provider.issuer
    assert claims["aud"] == [client.client_id]  # a list, as the mock gives it
    assert claims["sub"] == "ada.worker"
    assert claims["email"] == "ada.worker@kent.example"
    assert claims["groups"] == ["lantern-staff", "duty"]
    assert claims["nonce"] == "n1"
