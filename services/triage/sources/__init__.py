"""What triage asks of the council's other systems, and what it gets back.

Each source (Youth Justice, Children Missing Education, the CSE-risk register) is an
HTTP JSON API behind a small adapter in this package. Lantern asks by POST with the
child in the body, so no personal data ends up in a URL or an access log. The contract
a council's system must serve is docs/sources.openapi.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol


class SourceName(StrEnum):
    youth_justice = "youth_justice"
    cme = "cme"
    cse = "cse"


class YjLevel(StrEnum):
    """Youth Justice risk levels (DOMAIN.md 9.5)."""

    low = "LOW"
    medium = "MEDIUM"
    high = "HIGH"
    very_high = "VERY_HIGH"


class CseLevel(StrEnum):
    none = "none"
    low = "low"
    medium = "medium"
    high = "high"


@dataclass(frozen=True)
class ChildRef:
    """Who to look up: the council's id where intake matched one, and always the
    name and date of birth, for systems keyed otherwise."""

    la_child_id: str | None
    given_name: str
    family_name: str
    date_of_birth: date


@dataclass(frozen=True)
class YouthJusticeFacts:
    open_case: bool
    risk_of_serious_harm: YjLevel | None = None
    safety_and_wellbeing: YjLevel | None = None
    criminal_exploitation: bool = False
    county_lines: bool = False


@dataclass(frozen=True)
class CmeFacts:
    missing_education: bool
    persistently_absent: bool = False
    since: date | None = None


@dataclass(frozen=True)
class CseFacts:
    cse_risk: CseLevel = CseLevel.none
    assessed_on: date | None = None
    cce: bool = False
    trafficking: bool = False
    gangs: bool = False


SourceFacts = YouthJusticeFacts | CmeFacts | CseFacts


@dataclass(frozen=True)
class NotKnown:
    """The source answered: it holds nothing on this child."""


class SourceUnavailableError(Exception):
    """The source did not answer usefully (down, slow, garbage, circuit open)."""


class RiskSource(Protocol):
    name: SourceName

    async def lookup(self, child: ChildRef) -> SourceFacts | NotKnown:
        """Raises SourceUnavailableError when there is no usable answer."""
        ...
