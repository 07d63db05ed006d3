"""One period's panel report, read and computed: what the route and the command
both answer; and the statutory returns' rows, read and computed."""

from __future__ import annotations

from datetime import date
from typing import Any

from events.store import Reads
from services.reports.figures import panel
from services.reports.loading import load_panel_data
from services.reports.periods import Period, add_months
from services.reports.settings import ReportsSettings
from services.reports.statutory import collection_year, list8, missing_table
from services.reports.statutory_loading import load_children, load_episodes


async def panel_report(
    reads: Reads, settings: ReportsSettings, period: Period
) -> dict[str, Any]:
    council = settings.council_la_code
    data = await load_panel_data(reads, council=council, period=period)
    return panel(data, period, settings.comparators)


async def missing_table_rows(
    reads: Reads, settings: ReportsSettings, *, year: int
) -> list[tuple[str, ...]]:
    first, last = collection_year(year)
    council = settings.council_la_code
    kids = await load_children(reads, council=council, first=first, last=last)
    eps = await load_episodes(reads, council=council, first=first, last=last)
    return missing_table(kids, eps, year=year)


async def list8_rows(
    reads: Reads, settings: ReportsSettings, *, at: date
) -> list[tuple[str, ...]]:
    first, council = add_months(at, -12), settings.council_la_code
    kids = await load_children(reads, council=council, first=at, last=at)
    eps = await load_episodes(reads, council=council, first=first, last=at)
    return list8(kids, eps, at=at)
