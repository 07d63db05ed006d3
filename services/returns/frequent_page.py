"""The staff's page of children who frequently go missing (GET /frequently-missing).

Here, in returns, because returns keeps the children's histories and is handed the
policy's figure for them (``Container.frequently_missing``); the episodes and the
rule are the shared records'; the strategy-discussion prompts are the notifier's,
read through ``Container.open_alerts`` (no import of the notifier)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from events.calendar import LONDON
from services.api.container import Container
from services.api.timeline import age, day, role_words, when, words
from services.api.web.pages import Pages, StaffVisit
from services.records.frequency import FrequentlyMissing
from services.returns.frequent import frequently_missing_now, newest_first, report_of

router = APIRouter(include_in_schema=False)
PAGES = Pages("services.returns")
STRATEGY = "strategy_discussion"


def threshold_words(rule: FrequentlyMissing) -> str:
    """The policy's figure, said: ``3 or more missing episodes in 90 days``."""
    episodes = "episode" if rule.episodes == 1 else "episodes"
    return f"{rule.episodes} or more missing {episodes} in {rule.days} days"


@router.get("/frequently-missing")
async def frequently_missing_page(request: Request, visit: StaffVisit) -> HTMLResponse:
    deps: Container = request.app.state.container
    now = deps.now()
    today = now.astimezone(LONDON).date()
    rule = deps.frequently_missing
    children = await frequently_missing_now(deps.store, rule, now)
    listed: list[dict[str, Any]] = [
        {
            "name": child.name or "Name not known",
            "age": age(child.date_of_birth, today) if child.date_of_birth else None,
            "missing": child.missing,
            "episodes": [
                {
                    "episode_id": str(e.episode_id),
                    "missing_since": day(e.missing_since),
                    "type": words(e.episode_type),
                    "counted": e.episode_type == "missing",
                    "status": {"open": "Open", "found": "Returned"}.get(
                        e.status, words(e.status).capitalize()
                    ),
                }
                for e in newest_first(child.episodes)
            ],
        }
        for child in children
    ]
    prompts = []
    if deps.open_alerts is not None:
        for alert in await deps.open_alerts(deps.store, STRATEGY):
            report = await report_of(deps.store, alert.episode_id)
            name = (
                f"{report.child.given_name} {report.child.family_name}"
                if report
                else "Name not known"
            )
            prompts.append(
                {
                    "name": name,
                    "episode_id": str(alert.episode_id),
                    "role": role_words(alert.role),
                    "raised": when(alert.raised_at),
                }
            )
    return PAGES.render(
        request,
        visit,
        "frequently_missing.html.j2",
        title="Children who frequently go missing",
        threshold=threshold_words(rule),
        days=rule.days,
        children=listed,
        prompts=prompts,
    )
