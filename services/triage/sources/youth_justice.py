"""The Youth Justice service's case system: open case and AssetPlus risk levels
(DOMAIN.md 5.2, 9.5)."""

from __future__ import annotations

from services.triage.sources import SourceName, YjLevel, YouthJusticeFacts
from services.triage.sources.http import FactsBody, HttpSource


class YouthJusticeFactsBody(FactsBody):
    open_case: bool
    risk_of_serious_harm: YjLevel | None = None
    safety_and_wellbeing: YjLevel | None = None
    criminal_exploitation: bool = False
    county_lines: bool = False

    def to_facts(self) -> YouthJusticeFacts:
        return YouthJusticeFacts(**dict(self))


class HttpYouthJusticeSource(HttpSource):
    name = SourceName.youth_justice
    facts_model = YouthJusticeFactsBody
