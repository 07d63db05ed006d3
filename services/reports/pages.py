"""The panel report as a staff page (``/reports``): the same figures, findings and
charts as the report's own page, inside Lantern's layout, for a period chosen from
the financial quarters and years; with the PDF and the JSON to download.

Aggregate figures only, so analysts may see it. The charts are pygal's inline SVG,
whose <style> elements the default policy blocks: this page's policy allows inline
styles (never inline script; pygal's is left out: charts.py ``js=[]``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from services.api.container import Container
from services.api.web.pages import Pages, ReportVisit
from services.api.web.security import POLICY
from services.reports.page import FILTERS, context, render_html, render_pdf
from services.reports.periods import Period, add_months, london_day
from services.reports.schemas import PanelReport
from services.reports.service import panel_report
from services.reports.settings import ReportsSettings

PAGES = Pages("services.reports")
PAGES.environment.filters.update(FILTERS)
CHART_POLICY = POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
"""pygal's SVG styles itself with <style> elements: allowed here, and only styles."""
QUARTERS, YEARS = 8, 3
NOT_LISTED = "Choose a period from the list"


@dataclass(frozen=True)
class Choice:
    period: Period
    label: str

    @property
    def value(self) -> str:
        return f"{self.period.start}_{self.period.end}"


def financial_year_start(day: date) -> date:
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def choices(today: date) -> list[tuple[str, list[Choice]]]:
    """The quarters (newest first, this one so far) and the financial years."""
    this_year = financial_year_start(today)
    quarter = add_months(this_year, 3 * ((today.month - 4) % 12 // 3))
    quarters = []
    for n in range(QUARTERS):
        start = add_months(quarter, -3 * n)
        end = add_months(start, 3)
        last = add_months(start, 2)
        label = f"{start:%B} to {last:%B %Y}" + (" (so far)" if n == 0 else "")
        quarters.append(Choice(Period(start, end), label))
    years = []
    for n in range(YEARS):
        start = date(this_year.year - n, 4, 1)
        label = f"April {start.year} to March {start.year + 1}" + (
            " (so far)" if n == 0 else ""
        )
        years.append(Choice(Period(start, date(start.year + 1, 4, 1)), label))
    return [("Quarters", quarters), ("Financial years", years)]


def default(listed: list[tuple[str, list[Choice]]]) -> Choice:
    """The latest whole quarter: the one a panel meets about."""
    return listed[0][1][1]


def chosen(
    request: Request, now: datetime
) -> tuple[list[tuple[str, list[Choice]]], Choice, str | None]:
    listed = choices(london_day(now))
    asked = request.query_params.get("period")
    if asked is None:
        return listed, default(listed), None
    for _, options in listed:
        for choice in options:
            if choice.value == asked:
                return listed, choice, None
    return listed, default(listed), NOT_LISTED


def router_for(settings: ReportsSettings) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def report_of(request: Request) -> tuple[Any, ...]:
        deps: Container = request.app.state.container
        now = deps.now()
        listed, choice, problem = chosen(request, now)
        report = await panel_report(deps.store, settings, choice.period)
        return listed, choice, problem, report, now

    @router.get("/reports", response_class=HTMLResponse)
    async def reports_page(request: Request, visit: ReportVisit) -> Response:
        listed, choice, problem, report, now = await report_of(request)
        shown = await run_in_threadpool(context, report, generated_at=now)
        response = PAGES.render(
            request,
            visit,
            "report_page.html.j2",
            title="Reports",
            status_code=400 if problem else 200,
            errors={"period": problem} if problem else {},
            periods=[(g, [(c.value, c.label) for c in cs]) for g, cs in listed],
            chosen=choice.value,
            **shown,
        )
        response.headers["Content-Security-Policy"] = CHART_POLICY
        return response

    @router.get("/reports/panel.pdf")
    async def report_pdf(request: Request, _: ReportVisit) -> Response:
        _listed, choice, problem, report, _now = await report_of(request)
        if problem:
            return Response(NOT_LISTED, 400, media_type="text/plain")
        html = render_html(report, generated_at=datetime.now(UTC))
        pdf = await run_in_threadpool(render_pdf, html)
        return Response(pdf, media_type="application/pdf", headers=_file(choice, "pdf"))

    @router.get("/reports/panel.json")
    async def report_json(request: Request, _: ReportVisit) -> Response:
        _listed, choice, problem, report, _now = await report_of(request)
        if problem:
            return Response(NOT_LISTED, 400, media_type="text/plain")
        body = PanelReport.model_validate(report).model_dump(mode="json", by_alias=True)
        return JSONResponse(body, headers=_file(choice, "json"))

    return router


def _file(choice: Choice, suffix: str) -> dict[str, str]:
    name = f"panel-report-{choice.period.start}-to-{choice.period.end}.{suffix}"
    return {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    }
