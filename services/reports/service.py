"""One period's panel report, read and computed: what the route and the command
both answer."""

from __future__ import annotations

from typing import Any

from events.store import Reads
from services.reports.figures import panel
from services.reports.loading import load_panel_data
from services.reports.periods import Period
from services.reports.settings import ReportsSettings


async def panel_report(
    reads: Reads, settings: ReportsSettings, period: Period
) -> dict[str, Any]:
    council = settings.council_la_code
    data = await load_panel_data(reads, council=council, period=period)
    return panel(data, period, settings.comparators)
