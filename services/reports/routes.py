"""The panel report over HTTP, for analysts and staff: aggregate figures only, never
a child's id or name. Thin: the figures are figures.py's, the reading loading.py's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from services.api.deps import Deps, ReportReader
from services.api.errors import Rejected
from services.reports.page import render_html
from services.reports.periods import Period, period_problems
from services.reports.schemas import PanelReport
from services.reports.service import panel_report
from services.reports.settings import ReportsSettings

DAY = "A London calendar day, YYYY-MM-DD"
ISO_DAY = r"^\d{4}-\d{2}-\d{2}$"


def parse_period(start: str, end: str) -> Period:
    """``from`` and ``to`` (exclusive), or a 422 naming each that is wrong."""
    problems: list[tuple[str, str]] = []
    days: dict[str, date] = {}
    for name, value in (("from", start), ("to", end)):
        try:
            days[name] = date.fromisoformat(value)
        except ValueError:
            problems.append((name, "is not a date (YYYY-MM-DD)"))
    if not problems:
        problems = period_problems(days["from"], days["to"])
    if problems:
        raise Rejected(422, problems)
    return Period(days["from"], days["to"])


def _day(name: str, description: str) -> Any:
    return Query(
        alias=name,
        description=description,
        pattern=ISO_DAY,
        json_schema_extra={"format": "date"},
        examples=["2026-04-01"],
    )


def router_for(settings: ReportsSettings) -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.get(
        "/reports/panel",
        summary="The Corporate Parenting Panel's figures for a period",
        description="Definitions: docs/reports.md. Aggregate figures only. "
        "format=html: the same figures as a page for people, with the charts and the "
        "written findings.",
        responses={
            200: {"content": {"text/html": {"schema": {"type": "string"}}}},
            422: {"description": "from or to absent, not a date, reversed"},
        },
        response_model=PanelReport,
        response_model_by_alias=True,
    )
    async def read_panel_report(
        _: ReportReader,
        deps: Deps,
        start: Annotated[str, _day("from", DAY)],
        end: Annotated[str, _day("to", f"{DAY}; the period ends before it")],
        answer: Annotated[
            Literal["json", "html"],
            Query(alias="format", description="json (the default) or html"),
        ] = "json",
    ) -> dict[str, Any] | HTMLResponse:
        report = await panel_report(deps.store, settings, parse_period(start, end))
        if answer == "json":
            return report
        now = datetime.now(UTC)
        return HTMLResponse(
            await run_in_threadpool(render_html, report, generated_at=now)
        )

    return router
