"""The council's Children Missing Education register (DOMAIN.md 5.1)."""

from __future__ import annotations

from datetime import date

from services.triage.sources import CmeFacts, SourceName
from services.triage.sources.http import FactsBody, HttpSource


class CmeFactsBody(FactsBody):
    missing_education: bool
    persistently_absent: bool = False
    since: date | None = None

    def to_facts(self) -> CmeFacts:
        return CmeFacts(**dict(self))


class HttpCmeSource(HttpSource):
    name = SourceName.cme
    facts_model = CmeFactsBody
