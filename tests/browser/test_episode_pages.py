"""The episode page and the frequently-missing page in a real browser, against
`lantern run` (the embedded default: triage on the reference sources, the
notifier e-mailing a real SMTP inbox): the timeline shows the report, the
assessment, each message and the acknowledgement; axe-core finds nothing serious;
screenshots for the docs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.api import a_report_body
from tests.browser.conftest import StartLantern
from tests.browser.harness import (
    PHONE,
    assert_accessible,
    lantern_command,
    shot,
    sign_in_with_link,
)
from tests.channel_servers import Inbox, serve_smtp
from tests.waiting import HTTP_TIMEOUT, eventually

pytestmark = pytest.mark.browser
SOCIAL_WORKER = "alex.sw@council.example"
NOW = datetime.now(UTC).replace(microsecond=0)


async def test_the_episode_timeline_and_frequently_missing(
    lantern_web: StartLantern, page: Page, tmp_path: Path, browser: Browser
):
    inbox = Inbox()
    with serve_smtp(inbox) as smtp_port:
        base = await lantern_web({
            "LANTERN_CHANNELS__EMAIL__HOST": "127.0.0.1",
            "LANTERN_CHANNELS__EMAIL__PORT": str(smtp_port),
            "LANTERN_CHANNELS__EMAIL__STARTTLS": "false",
            "LANTERN_CHANNELS__EMAIL__FROM_ADDRESS": "lantern@council.example",
            "LANTERN_NOTIFIER_POLL_S": "0.2",
        })  # fmt: skip
        database = tmp_path / "lantern-0.db"  # the fixture's first database
        token = {
            name: await lantern_command(database, "clients", "create",
                                        "--name", name, "--role", role, *extra)
            for name, role, extra in [
                ("kent", "police", ["--force", "KENT"]),
                ("cms", "integrator", []),
                ("oncall", "staff", []),
            ]
        }  # fmt: skip
        recipients = tmp_path / "recipients.csv"
        recipients.write_text(
            "recipient_id,kind,key,name,email,phone,webhook_url\n"
            "duty,duty_team,,Duty team,duty@council.example,,\n"
        )
        await lantern_command(database, "recipients", "import", str(recipients))

        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, base_url=base) as http:

            def auth(client: str) -> dict[str, str]:
                return {"Authorization": f"Bearer {token[client]}"}

            child = await http.put("/v1/children/C1", headers=auth("cms"), json={
                "given_name": "Sam", "family_name": "Taylor",
                "date_of_birth": "2011-05-14", "looked_after": True, "uasc": False,
                "placing_authority": "886", "placement_district": "Maidstone",
                "ola": False,
                "social_worker": {"name": "Alex", "email": SOCIAL_WORKER},
            })  # fmt: skip
            assert child.status_code == 200, child.text
            episodes = []
            for reference, days in (("KNT-B1", 70), ("KNT-B2", 30), ("KNT-B3", 0)):
                since = NOW - timedelta(days=days, hours=3)
                body = a_report_body(
                    reference, missing_since=since.isoformat(),
                    reported_at=(since + timedelta(hours=1)).isoformat(),
                )  # fmt: skip
                body["child"]["la_child_id"] = "C1"
                posted = await http.post(
                    "/v1/missing-reports", json=body, headers=auth("kent")
                )
                assert posted.status_code == 202, posted.text
                episodes.append(posted.json()["episode_id"])
            episode = episodes[-1]

            async def alert_of_latest() -> str | None:
                listed = await http.get("/v1/alerts", headers=auth("oncall"))
                for alert in listed.json()["items"]:
                    if alert["episode_id"] == episode and alert["matter"] is None:
                        return str(alert["alert_id"])
                return None

            alert_id = await eventually(alert_of_latest, timeout=30, what="alerted")

            await sign_in_with_link(
                page, base, database, "jo@council.example", name="Jo Okafor"
            )

            async def e_mailed() -> bool:
                await page.goto(f"{base}/episodes/{episode}")
                said = await page.locator(".lantern-timeline").inner_text()
                return "Alert sent to the social worker by e-mail" in said

            await eventually(e_mailed, timeout=30, what="the alert e-mailed")
            acked = await http.post(
                f"/v1/alerts/{alert_id}/ack", headers=auth("oncall")
            )
            assert acked.status_code == 200, acked.text

        await page.goto(f"{base}/episodes/{episode}")
        assert await page.title() == "Episode – Lantern"  # noqa: RUF001
        timeline = page.locator(".lantern-timeline")
        await expect(timeline).to_contain_text("Reported missing by Kent Police")
        await expect(timeline).to_contain_text("Risk assessed:")
        await expect(timeline).to_contain_text(
            "Alert sent to the social worker by e-mail"
        )
        await expect(timeline).to_contain_text(
            "Acknowledged: the alert to the social worker"
        )
        whats = await page.locator(".lantern-timeline__what").all_inner_texts()
        assert whats[0] == "Reported missing by Kent Police"
        first = {w: i for i, w in reversed(list(enumerate(whats)))}
        assessed = next(i for w, i in first.items() if w.startswith("Risk assessed"))
        sent = first["Alert sent to the social worker by e-mail"]
        acked_at = first["Acknowledged: the alert to the social worker"]
        assert 0 < assessed < sent < acked_at
        assert SOCIAL_WORKER not in await page.content()
        await assert_accessible(page)
        await shot(page, "episode")

        # On a phone: the same session, nothing wider than the screen.
        phone = await browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True,
            storage_state=await page.context.storage_state(),
        )  # fmt: skip
        try:
            small = await phone.new_page()
            await small.goto(f"{base}/episodes/{episode}")
            await expect(small.locator(".lantern-timeline")).to_contain_text(
                "Reported missing by Kent Police"
            )
            width = await small.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"]
            await shot(small, "episode-phone")
        finally:
            await phone.close()

        await page.goto(f"{base}/frequently-missing")
        await expect(page.locator(".lantern-child")).to_have_count(1)
        await expect(page.locator(".lantern-child__count")).to_contain_text(
            "3 missing episodes in the last 90 days"
        )
        await expect(page.locator(".lantern-prompt")).not_to_have_count(0)
        await assert_accessible(page)
        await shot(page, "frequently-missing")
