"""The exploitation (CSE/CCE) risk register: level, last assessment and the CIN
assessment-factor flags (DOMAIN.md 5.3)."""

from __future__ import annotations

from datetime import date

from services.triage.sources import CseFacts, CseLevel, SourceName
from services.triage.sources.http import FactsBody, HttpSource


class CseFactsBody(FactsBody):
    cse_risk: CseLevel = CseLevel.none
    assessed_on: date | None = None
    cce: bool = False
    trafficking: bool = False
    gangs: bool = False

    def to_facts(self) -> CseFacts:
        return CseFacts(**dict(self))


class HttpCseSource(HttpSource):
    name = SourceName.cse
    facts_model = CseFactsBody
