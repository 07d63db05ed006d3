"""THE risk rules: (the situation, the policy) -> a level with its reasons. Pure.

The police grade is a floor: triage never lowers it. A source that did not answer adds
nothing and takes nothing away; the assessment names it, and triage assesses again
when it answers. Missing (SSDA903 M, whereabouts unknown) and away (A, whereabouts
known) are told apart: time missing weighs only on a missing child, and earlier
episodes are counted by type, as the DfE counts them. Weights and thresholds come
from the policy file (policy.toml), not from here. Sources of each rule are in
DOMAIN.md, cited beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from events.calendar import LONDON
from events.contracts.children import ChildRecorded
from events.contracts.missing import (
    EpisodeType,
    PlacementType,
    RiskGrade,
    WithdrawalReason,
)
from events.contracts.triage import Factor
from services.records.frequency import FrequentlyMissing
from services.triage.sources import (
    CmeFacts,
    CseFacts,
    CseLevel,
    NotKnown,
    SourceFacts,
    SourceName,
    YjLevel,
    YouthJusticeFacts,
)

HIGH_YJ = {YjLevel.high, YjLevel.very_high}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Weights(_Strict):
    police_grade: dict[RiskGrade, int]
    yj_open_case: int = Field(ge=0)
    yj_serious_harm: int = Field(ge=0)
    yj_wellbeing: int = Field(ge=0)
    criminal_exploitation: int = Field(ge=0)
    county_lines: int = Field(ge=0)
    missing_education: int = Field(ge=0)
    persistently_absent: int = Field(ge=0)
    cse_medium: int = Field(ge=0)
    cse_high: int = Field(ge=0)
    cce: int = Field(ge=0)
    trafficking: int = Field(ge=0)
    gangs: int = Field(ge=0)
    uasc: int = Field(ge=0)
    ola: int = Field(ge=0)
    young_child: int = Field(ge=0)
    frequently_missing: int = Field(ge=0)
    missing_before: int = Field(ge=0)
    night_time: int = Field(ge=0)
    return_interview_concerns: int = Field(30, ge=0)
    """Optional, so policy files written before it stay valid."""


class Policy(_Strict):
    """The policy file, validated: an invalid one is refused at start."""

    version: str = Field(min_length=1)
    thresholds: dict[RiskGrade, int]
    weights: Weights
    missing_hours: dict[int, int] = Field(
        description="Hours missing -> weight; the highest threshold passed counts"
    )
    frequently_missing_episodes: int = Field(3, ge=1)
    frequently_missing_days: int = Field(90, ge=1)
    young_child_under: int = Field(13, ge=0, le=18)
    night_from_hour: int = Field(22, ge=0, le=23)
    night_to_hour: int = Field(6, ge=0, le=23)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if set(self.weights.police_grade) != set(RiskGrade):
            raise ValueError("weights.police_grade needs a weight for every grade")
        scores = [
            self.thresholds.get(g)
            for g in RiskGrade
            if g is not RiskGrade.no_apparent_risk
        ]
        if None in scores or scores != sorted(scores):  # type: ignore[type-var]
            raise ValueError("thresholds: low <= medium <= high, all three given")
        if any(h <= 0 for h in self.missing_hours):
            raise ValueError("missing_hours: hours must be positive")
        return self

    @property
    def frequently_missing(self) -> FrequentlyMissing:
        return FrequentlyMissing(
            self.frequently_missing_episodes, self.frequently_missing_days
        )

    def review_hours(self, episode_type: EpisodeType) -> list[int]:
        """When time alone can change the level: triage assesses again then. Only a
        missing child's: an away child's whereabouts are known."""
        return sorted(self.missing_hours) if episode_type is EpisodeType.missing else []


@dataclass(frozen=True)
class Earlier:
    """The child's earlier episodes of one type and one end, counted per window."""

    episode_type: EpisodeType
    withdrawn_as: WithdrawalReason | None
    counts: Mapping[int, int]  # window in days -> episodes in it


@dataclass(frozen=True)
class Situation:
    """Everything triage knows about an episode at one moment."""

    police_grade: RiskGrade
    episode_type: EpisodeType
    age: int
    placement_type: PlacementType
    reported_at: datetime
    hours_missing: float
    history: Sequence[Earlier]
    directory: ChildRecorded | None
    home_authority: str | None
    """The placing authority's code when it is another council (records/council.py)."""
    answers: Mapping[SourceName, SourceFacts | NotKnown]
    unanswered: Sequence[SourceName] = ()
    last_known: Sequence[Factor] = ()
    """The previous assessment's factors: kept for a source that is silent now."""
    interview_concerns: Sequence[str] = ()
    """Exploitation concerns raised at the return interviews of the child's
    earlier episodes (cse, cce, trafficking, gangs)."""


@dataclass(frozen=True)
class Assessment:
    level: RiskGrade
    score: int
    factors: list[Factor]
    actions: list[str]
    answered: list[str]
    unanswered: list[str]
    policy_version: str
    exploitation: bool = field(default=False)
    crossed: int | None = None
    """With this episode the child became frequently missing: the count, else None
    (``crosses_frequently_missing``)."""


def assess(situation: Situation, policy: Policy) -> Assessment:
    w = policy.weights
    factors = [
        _factor(
            code="police_grade",
            source="police",
            evidence=situation.police_grade.value,
            weight=w.police_grade[situation.police_grade],
        ),
        *_child_factors(situation, policy),
        *_history_factors(situation, policy),
        *_interview_factors(situation, policy),
        *_time_factors(situation, policy),
    ]
    for facts in situation.answers.values():
        factors += _source_factors(facts, w)
    factors += _carried(situation)
    score = sum(f.weight for f in factors)
    level = max(situation.police_grade, _level_of(score, policy), key=lambda g: g.rank)
    exploitation = any(f.exploitation for f in factors)
    return Assessment(
        level=level,
        score=score,
        factors=factors,
        actions=_actions(level, exploitation, factors, situation),
        answered=sorted(situation.answers),
        unanswered=sorted(situation.unanswered),
        policy_version=policy.version,
        exploitation=exploitation,
        crossed=crosses_frequently_missing(situation, policy),
    )


# Exploitation flags: CIN factor codes 11A CSE, 24A CCE, 12A trafficking, 13A gangs
# (DOMAIN.md 9.4); county lines and criminal exploitation from Youth Justice (5.2).
EXPLOITATION = {
    "cse_medium",
    "cse_high",
    "cce",
    "trafficking",
    "gangs",
    "county_lines",
    "criminal_exploitation",
    "return_interview_concerns",
}


def _factor(*, code: str, source: str, evidence: str, weight: int) -> Factor:
    """Every factor says whether it is an exploitation concern: the notifier tells
    the police exploitation team by this, without knowing these rules."""
    return Factor(
        code=code,
        source=source,
        evidence=evidence,
        weight=weight,
        exploitation=code in EXPLOITATION,
    )


LAST_KNOWN = " (last known)"


def _carried(s: Situation) -> list[Factor]:
    """A source that does not answer now never lowers risk: what it said last time
    still counts, marked as such, until it answers again."""
    silent = {name.value for name in s.unanswered}
    return [
        f
        if f.evidence.endswith(LAST_KNOWN)
        else f.model_copy(update={"evidence": f.evidence + LAST_KNOWN})
        for f in s.last_known
        if f.source in silent
    ]


def _level_of(score: int, policy: Policy) -> RiskGrade:
    level = RiskGrade.no_apparent_risk
    for grade in (RiskGrade.low, RiskGrade.medium, RiskGrade.high):
        if score >= policy.thresholds[grade]:
            level = grade
    return level


def _child_factors(s: Situation, policy: Policy) -> list[Factor]:
    w = policy.weights
    out = []
    if s.age < policy.young_child_under:
        out.append(
            _factor(
                code="young_child",
                source="report",
                evidence=f"age {s.age}",
                weight=w.young_child,
            )
        )
    if s.directory and s.directory.uasc:  # UASC: trafficking risk (DOMAIN.md 5.3)
        out.append(
            _factor(code="uasc", source="directory", evidence="UASC", weight=w.uasc)
        )
    if s.home_authority:  # placed by another authority (DOMAIN.md 1.6, 9.18)
        out.append(
            _factor(
                code="ola",
                source="directory" if s.directory else "report",
                evidence=f"placed from LA {s.home_authority}",
                weight=w.ola,
            )
        )
    return out


def episodes_before(history: Sequence[Earlier], of: EpisodeType) -> dict[int, int]:
    """Earlier episodes of one type, per window. A report withdrawn as made in error
    was never an episode; missing (M) and away (A) are counted apart, as the DfE
    counts them (SSDA903 Missing table, Annex A List 8: DOMAIN.md 3, 9.3)."""
    counted: dict[int, int] = {}
    for earlier in history:
        if earlier.episode_type is of and (
            earlier.withdrawn_as is not WithdrawalReason.reported_in_error
        ):
            for days, count in earlier.counts.items():
                counted[days] = counted.get(days, 0) + count
    return counted


def _history_factors(s: Situation, policy: Policy) -> list[Factor]:
    w = policy.weights
    days = policy.frequently_missing_days
    missing = episodes_before(s.history, EpisodeType.missing)
    away = episodes_before(s.history, EpisodeType.away).get(days, 0)
    also_away = f"; {away} away, counted apart" if away else ""
    recent = missing.get(days, 0) + int(s.episode_type is EpisodeType.missing)
    # "Frequently missing": 3 or more in 90 days by default, a local convention
    # (DOMAIN.md 5.4, 10) - so both numbers are in the policy file.
    if policy.frequently_missing.applies(recent):
        return [
            _factor(
                code="frequently_missing",
                source="history",
                evidence=f"{recent} missing episodes in {days} days{also_away}",
                weight=w.frequently_missing,
            )
        ]
    year = missing.get(365, 0)
    if year:
        return [
            _factor(
                code="missing_before",
                source="history",
                evidence=f"{year} earlier missing in 365 days",
                weight=w.missing_before,
            )
        ]
    return []


def crosses_frequently_missing(s: Situation, policy: Policy) -> int | None:
    """The missing episodes in the window, this one included, when this episode
    takes the count from below the threshold to it; else None. Only a missing
    episode adds to the count, so only one can cross (DOMAIN.md 5.4)."""
    if s.episode_type is not EpisodeType.missing:
        return None
    before = episodes_before(s.history, EpisodeType.missing).get(
        policy.frequently_missing_days, 0
    )
    crossed = before < policy.frequently_missing_episodes <= before + 1
    return before + 1 if crossed else None


def _interview_factors(s: Situation, policy: Policy) -> list[Factor]:
    """Exploitation concerns a return interview raised (CIN 11A, 24A, 12A, 13A:
    DOMAIN.md 9.4) weigh on the child's later episodes, as a source's flags do."""
    if not s.interview_concerns:
        return []
    named = ", ".join(sorted(set(s.interview_concerns)))
    return [
        _factor(
            code="return_interview_concerns",
            source="history",
            evidence=f"exploitation concerns raised at a return interview: {named}",
            weight=policy.weights.return_interview_concerns,
        )
    ]


def _time_factors(s: Situation, policy: Policy) -> list[Factor]:
    out = []
    hour = s.reported_at.astimezone(LONDON).hour
    start, end = policy.night_from_hour, policy.night_to_hour
    if (hour >= start or hour < end) if start > end else (start <= hour < end):
        out.append(
            _factor(
                code="night_time",
                source="report",
                evidence=f"reported {hour}:00",
                weight=policy.weights.night_time,
            )
        )
    # Hours missing weigh only while whereabouts are unknown (DOMAIN.md 1.2, 5.4).
    passed = [h for h in policy.review_hours(s.episode_type) if s.hours_missing >= h]
    if passed:
        hours = max(passed)
        out.append(
            _factor(
                code=f"missing_{hours}h",
                source="clock",
                evidence=f"missing over {hours} hours",
                weight=policy.missing_hours[hours],
            )
        )
    return out


def _source_factors(facts: SourceFacts | NotKnown, w: Weights) -> list[Factor]:
    if isinstance(facts, YouthJusticeFacts):
        return _youth_justice(facts, w)
    if isinstance(facts, CmeFacts):
        return _cme(facts, w)
    if isinstance(facts, CseFacts):
        return _cse(facts, w)
    return []


def _flagged(source: str, flags: Sequence[tuple[bool, str, str, int]]) -> list[Factor]:
    return [
        _factor(code=code, source=source, evidence=evidence, weight=weight)
        for present, code, evidence, weight in flags
        if present
    ]


def _youth_justice(f: YouthJusticeFacts, w: Weights) -> list[Factor]:
    return _flagged(
        "youth_justice",
        [
            (f.open_case, "yj_open_case", "open YJ case", w.yj_open_case),
            (
                f.risk_of_serious_harm in HIGH_YJ,
                "yj_serious_harm",
                f"risk of serious harm {f.risk_of_serious_harm}",
                w.yj_serious_harm,
            ),
            (
                f.safety_and_wellbeing in HIGH_YJ,
                "yj_wellbeing",
                f"safety and wellbeing {f.safety_and_wellbeing}",
                w.yj_wellbeing,
            ),
            (
                f.criminal_exploitation,
                "criminal_exploitation",
                "criminal exploitation concern",
                w.criminal_exploitation,
            ),
            (f.county_lines, "county_lines", "county lines concern", w.county_lines),
        ],
    )


def _cme(f: CmeFacts, w: Weights) -> list[Factor]:
    since = f" since {f.since.isoformat()}" if f.since else ""
    return _flagged(
        "cme",
        [
            (
                f.missing_education,
                "missing_education",
                f"missing education{since}",
                w.missing_education,
            ),
            (
                f.persistently_absent,
                "persistently_absent",
                "persistently absent",
                w.persistently_absent,
            ),
        ],
    )


def _cse(f: CseFacts, w: Weights) -> list[Factor]:
    assessed = f" (assessed {f.assessed_on.isoformat()})" if f.assessed_on else ""
    return _flagged(
        "cse",
        [
            (
                f.cse_risk is CseLevel.high,
                "cse_high",
                f"CSE risk high{assessed}",
                w.cse_high,
            ),
            (
                f.cse_risk is CseLevel.medium,
                "cse_medium",
                f"CSE risk medium{assessed}",
                w.cse_medium,
            ),
            (f.cce, "cce", "child criminal exploitation (24A)", w.cce),
            (f.trafficking, "trafficking", "trafficking (12A)", w.trafficking),
            (f.gangs, "gangs", "gangs (13A)", w.gangs),
        ],
    )


def _actions(
    level: RiskGrade, exploitation: bool, factors: Sequence[Factor], s: Situation
) -> list[str]:
    codes = {f.code for f in factors}
    actions = []
    # DfE 2014 guidance (DOMAIN.md 1.8); repeat missing on its own (5.4)
    if level is RiskGrade.high or exploitation or "frequently_missing" in codes:
        actions.append("strategy_discussion")
    if exploitation or level in (RiskGrade.medium, RiskGrade.high):
        actions.append("mcet_referral")
    if s.placement_type is PlacementType.childrens_home and codes & {
        "cse_medium",
        "cse_high",
    }:
        actions.append(
            "notify_ofsted"
        )  # CH Regs 2015 reg 40(4)(a) (DOMAIN.md 1.6, 9.19)
    if "ola" in codes:
        actions.append("notify_home_authority")  # DOMAIN.md 1.6, 9.18
    if s.unanswered:
        actions.append("recheck_unanswered_sources")
    return actions
