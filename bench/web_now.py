"""The "Now" page (#20) at scale: 500 open episodes (each with an alert for the
social worker, one for the duty team and one for the police exploitation team,
which staff do not see: 1,000 open alerts on the staff's side) on a fresh PostgreSQL
database, served by `lantern intake` as its own process.

- time to first byte of ``GET /now``, p50/p95 over 50 requests (httpx, one at a
  time, a signed-in member of staff's cookie); goal p95 < 300 ms;
- time to a fully rendered page in Debian's chromium (Playwright,
  ``page.goto(..., wait_until="load")``), p50/p95 over 20 loads; goal < 1 s;
- a live update's delay with 100 pages open: 100 ``/now/stream`` connections on the
  one server process; 20 new alerts committed by this process 0.25 s apart; per
  stream and alert, the receipt of the alert's event minus the wall time before its
  commit; p50/p99 over the 2,000; goal p99 < 1 s. (A page then fetches the list's
  fragment: its time is the first figure's, less the layout.)

    .venv/bin/python -m bench.web_now [--quick] [--no-browser]
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta

import httpx

from bench.common import arguments, conditions, fresh_postgres, percentile, quiet_logs
from events.contracts.alerts import AlertContact, AlertRaised
from events.contracts.missing import (
    Child,
    ChildMatch,
    LastSeen,
    MissingReported,
    Placement,
    RiskGrade,
)
from events.contracts.triage import Factor, RiskAssessed
from events.envelope import NewEvent
from events.registry import Event
from events.store import Append, Commit
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from services.api.web.parts import web_for
from services.api.web.people import WebRole
from services.api.web.sessions import COOKIE
from services.api.web.settings import WebSettings
from services.processes import projectors
from tests.e2e.processes import free_port, lantern, log_of, terminate, until_healthy

EPISODES = 500
CHROMIUM = os.environ.get("LANTERN_CHROMIUM", "/usr/bin/chromium")
LEVELS = (RiskGrade.high, RiskGrade.medium, RiskGrade.low)
FACTORS = [
    Factor(code="police_grade", source="police", evidence="medium", weight=20,
           exploitation=False),
    Factor(code="cse_medium", source="cse", evidence="flagged 2026-10", weight=30,
           exploitation=True),
    Factor(code="cme", source="cme", evidence="not on roll", weight=10,
           exploitation=False),
]  # fmt: skip


def episode_events(n: int, now: datetime) -> list[Append]:
    episode_id = uuid.uuid4()
    level = LEVELS[n % 3]
    raised = now - timedelta(minutes=n % 600)
    report = MissingReported(
        episode_id=episode_id, police_force="KENT", police_reference=f"KNT-B{n:05d}",
        reported_at=raised - timedelta(minutes=5),
        missing_since=raised - timedelta(hours=2), episode_type="missing",
        police_risk_grade=RiskGrade.medium,
        child=Child(la_child_id=f"C{n}", given_name=f"Child{n}",
                    family_name="Fictitious", date_of_birth=date(2010, 3, 14),
                    gender="female"),
        placement=Placement(placing_authority="886", placement_type="foster_care",
                            postcode="ME14 1AA"),
        last_seen=LastSeen(description="Fictional Road", postcode="ME14 2BB"),
        circumstances="fictional", match=ChildMatch(status="unmatched", candidates=0),
    )  # fmt: skip
    assessed = RiskAssessed(
        episode_id=episode_id, level=level, score=60, factors=FACTORS,
        actions=["strategy_discussion"], sources_answered=["cse", "cme"],
        sources_missing=["youth_justice"], policy_version="bench",
        assessed_at=raised, trigger="reported",
    )  # fmt: skip
    appends = [Append(f"episode-{episode_id}", [_new(report), _new(assessed)])]
    for role in ("social_worker", "duty_team", "mcet"):
        appends.append(alert_append(episode_id, role, level, raised))
    return appends


def alert_append(
    episode_id: uuid.UUID, role: str, level: RiskGrade, raised: datetime
) -> Append:
    alert_id = uuid.uuid4()
    raised_event = AlertRaised(
        alert_id=alert_id, episode_id=episode_id, role=role, scope="full",
        level=level, contact=AlertContact(recipient_id=role, email="x@council.test"),
        channels=["email"], escalate_at=None, raised_at=raised,
    )  # fmt: skip
    return Append(f"alert-{alert_id}", [_new(raised_event)])


def _new(event: Event) -> NewEvent:
    return NewEvent(event=event)


async def seed(store: SqlEventStore, count: int) -> uuid.UUID:
    """The episodes; returns the last one's id (a live alert must be of an episode
    on record: the staff's view joins them)."""
    now = datetime.now(UTC)
    appends: list[Append] = []
    for start in range(0, count, 50):
        appends = [a for n in range(start, min(count, start + 50))
                   for a in episode_events(n, now)]  # fmt: skip
        await store.commit(Commit(appends))
    return uuid.UUID(appends[0].stream_id.removeprefix("episode-"))


@asynccontextmanager
async def served(url: str) -> AsyncIterator[str]:
    port = free_port()
    env = {
        "LANTERN_DATABASE_URL": url,
        "LANTERN_LOG_LEVEL": "warning",
        "LANTERN_NOTIFIER_LINK_SECRET": "a-link-secret-for-the-bench-only-0123",
    }
    process = lantern("intake", "--port", str(port), env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        await until_healthy(base)
        yield base
    except BaseException:
        print(log_of(process))
        raise
    finally:
        terminate(process)


async def ttfb(base: str, cookie: str, requests: int) -> tuple[list[float], int]:
    """Seconds to the first byte of the body, per request; the page's size."""
    times, size = [], 0
    async with httpx.AsyncClient(base_url=base, cookies={COOKIE: cookie}) as http:
        await http.get("/now")  # warm
        for _ in range(requests):
            began = time.perf_counter()
            async with http.stream("GET", "/now") as response:
                assert response.status_code == 200, response.status_code
                first = None
                body = b""
                async for chunk in response.aiter_raw():
                    first = first or time.perf_counter()
                    body += chunk
            times.append((first or time.perf_counter()) - began)
            size = len(body)
    return times, size


async def rendered(base: str, cookie: str, loads: int) -> list[float]:
    from playwright.async_api import async_playwright  # optional: --no-browser

    times = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True
        )
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        await context.add_cookies([{"name": COOKIE, "value": cookie, "url": base}])
        page = await context.new_page()
        await page.goto(f"{base}/now", wait_until="load")  # warm: fonts, CSS, JS
        for _ in range(loads):
            began = time.perf_counter()
            await page.goto(f"{base}/now", wait_until="load")
            times.append(time.perf_counter() - began)
        await browser.close()
    return times


async def live_delays(
    base: str,
    cookie: str,
    store: SqlEventStore,
    episode_id: uuid.UUID,
    pages: int,
    alerts: int,
) -> list[float]:
    """Per (stream, alert): receipt of the alert's event - wall time before commit."""
    committed: dict[str, float] = {}
    received: list[tuple[str, float]] = []
    ready = 0
    limits = httpx.Limits(max_connections=pages + 10)
    timeout = httpx.Timeout(60)

    async def watch(http: httpx.AsyncClient, done: asyncio.Event) -> None:
        nonlocal ready
        async with http.stream("GET", "/now/stream") as response:
            lines = response.aiter_lines()
            ready += 1
            async for line in lines:
                if line.startswith("data: ") and "alert_id" in line:
                    got = time.perf_counter()
                    alert_id = json.loads(line[6:])["alert_id"]
                    received.append((alert_id, got))
                if done.is_set():
                    return

    done = asyncio.Event()
    async with httpx.AsyncClient(
        base_url=base, cookies={COOKIE: cookie}, limits=limits, timeout=timeout
    ) as http:
        watchers = [asyncio.create_task(watch(http, done)) for _ in range(pages)]
        deadline = time.monotonic() + 30
        while ready < pages and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # each stream has read the head and waits
        for _ in range(alerts):
            append = alert_append(
                episode_id, "duty_team", RiskGrade.high, datetime.now(UTC)
            )
            alert_id = str(append.events[0].event.alert_id)  # type: ignore[attr-defined]
            committed[alert_id] = time.perf_counter()
            await store.commit(Commit([append]))
            await asyncio.sleep(0.25)
        deadline = time.monotonic() + 10
        while len(received) < pages * alerts and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        done.set()
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    delays = [got - committed[a] for a, got in received if a in committed]
    missing = pages * alerts - len(delays)
    if missing:
        print(f"  {missing} of {pages * alerts} events not received within 10 s")
    return delays


def line(name: str, values: list[float], goal: str) -> None:
    ms = [v * 1000 for v in values]
    if not ms:
        print(f"  {name}: nothing measured")
        return
    print(
        f"  {name:<34} p50 {percentile(ms, 50):7.1f} ms   p95 {percentile(ms, 95):7.1f}"
        f" ms   p99 {percentile(ms, 99):7.1f} ms   max {max(ms):7.1f} ms   "
        f"(n={len(ms)}; goal {goal})"
    )


async def main() -> None:
    parser = arguments(__doc__, runs=1)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    quiet_logs()
    requests, loads, pages, alerts = (10, 5, 20, 5) if args.quick else (50, 20, 100, 20)
    with conditions("web_now"):
        async with fresh_postgres() as url:
            store = SqlEventStore(create_engine(url), projectors=projectors())
            try:
                began = time.perf_counter()
                episode_id = await seed(store, EPISODES)
                print(
                    f"  seeded {EPISODES} open episodes (3 alerts each, 2 the "
                    f"council's) in {time.perf_counter() - began:.1f} s"
                )
                web = web_for(store.engine, WebSettings())
                now = datetime.now(UTC)
                person = await web.people.create_local(
                    "bench@council.test", "Bench", frozenset({WebRole.staff}), now
                )
                cookie = await web.sessions.start(person, now)
                async with served(url) as base:
                    times, size = await ttfb(base, cookie, requests)
                    print(f"  GET /now: {size:,} bytes")
                    line("GET /now, time to first byte", times, "p95 < 300 ms")
                    if not args.no_browser and os.access(CHROMIUM, os.X_OK):
                        shown = await rendered(base, cookie, loads)
                        line("chromium, goto until load", shown, "< 1 s")
                    delays = await live_delays(
                        base, cookie, store, episode_id, pages, alerts
                    )
                    line(f"live update, {pages} streams open", delays, "p99 < 1 s")
            finally:
                await store.close()


if __name__ == "__main__":
    asyncio.run(main())
