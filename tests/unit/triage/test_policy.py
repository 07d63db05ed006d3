"""The risk rules, one row per rule; the DOMAIN.md section is in each id."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from events.contracts.children import ChildRecorded
from events.contracts.missing import (
    EpisodeType,
    PlacementType,
    RiskGrade,
    WithdrawalReason,
)
from services.triage.policy import Earlier, Situation, assess
from services.triage.policy_file import DEFAULT, PolicyFileError, load_policy
from services.triage.sources import (
    CmeFacts,
    CseFacts,
    CseLevel,
    NotKnown,
    SourceName,
    YjLevel,
    YouthJusticeFacts,
)

POLICY = load_policy()
AFTERNOON = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
ALL_NOT_KNOWN = {name: NotKnown() for name in SourceName}


def a_situation(**changes) -> Situation:
    base = Situation(
        police_grade=RiskGrade.low,
        episode_type=EpisodeType.missing,
        age=15,
        placement_type=PlacementType.foster_care,
        reported_at=AFTERNOON,
        hours_missing=2,
        history=(),
        directory=None,
        home_authority=None,
        answers=ALL_NOT_KNOWN,
    )
    return replace(base, **changes)


def record(**changes) -> ChildRecorded:
    base = {
        "la_child_id": "C1", "given_name": "A", "family_name": "B",
        "date_of_birth": date(2011, 1, 1), "looked_after": True, "uasc": False,
        "placing_authority": "886", "ola": False,
    }  # fmt: skip
    return ChildRecorded(**{**base, **changes})


def earlier(
    counts: dict[int, int],
    episode_type: EpisodeType = EpisodeType.missing,
    withdrawn_as: WithdrawalReason | None = None,
) -> Earlier:
    return Earlier(episode_type, withdrawn_as, counts)


def answers(**facts) -> dict:
    return {**ALL_NOT_KNOWN, **{SourceName(k): v for k, v in facts.items()}}


@pytest.mark.parametrize(
    ("changes", "factor"),
    [
        pytest.param({"answers": answers(youth_justice=YouthJusticeFacts(
            open_case=False, risk_of_serious_harm=YjLevel.high))}, "yj_serious_harm",
            id="YJ risk of serious harm HIGH (DOMAIN 5.2, 9.5)"),
        pytest.param({"answers": answers(youth_justice=YouthJusticeFacts(
            open_case=False, county_lines=True))}, "county_lines",
            id="YJ county lines concern (DOMAIN 5.2)"),
        pytest.param({"answers": answers(cme=CmeFacts(missing_education=True))},
            "missing_education", id="child missing education (DOMAIN 5.1, 9.21)"),
        pytest.param({"answers": answers(cse=CseFacts(cse_risk=CseLevel.high))},
            "cse_high", id="CSE risk high, CIN 11A (DOMAIN 5.3, 9.4)"),
        pytest.param({"answers": answers(cse=CseFacts(cce=True))}, "cce",
            id="child criminal exploitation, CIN 24A (DOMAIN 9.4)"),
        pytest.param({"answers": answers(cse=CseFacts(trafficking=True))},
            "trafficking", id="trafficking, CIN 12A (DOMAIN 9.4)"),
        pytest.param({"answers": answers(cse=CseFacts(gangs=True))}, "gangs",
            id="gangs, CIN 13A (DOMAIN 9.4)"),
        pytest.param({"directory": record(uasc=True)}, "uasc",
            id="UASC: trafficking risk (DOMAIN 5.3)"),
        pytest.param({"home_authority": "202"}, "ola",
            id="placed by another authority, by the report (DOMAIN 1.6, 9.18)"),
        pytest.param({"directory": record(placing_authority="202"),
                      "home_authority": "202"}, "ola",
            id="placed by another authority, by the records (DOMAIN 1.6)"),
        pytest.param({"history": [earlier({30: 1, 90: 2, 365: 2})]},
            "frequently_missing",
            id="3 or more in 90 days: frequently missing (DOMAIN 5.4)"),
        pytest.param({"history": [earlier({30: 0, 90: 0, 365: 1})]}, "missing_before",
            id="missing before in the last year (DOMAIN 2.4)"),
        pytest.param({"reported_at": datetime(2026, 11, 26, 23, 30, tzinfo=UTC)},
            "night_time", id="reported at night, Europe/London (DOMAIN 2.4)"),
        pytest.param({"hours_missing": 25}, "missing_24h",
            id="missing over 24 hours (DOMAIN 5.4)"),
        pytest.param({"hours_missing": 80}, "missing_72h",
            id="missing over 72 hours (DOMAIN 5.4)"),
        pytest.param({"age": 11}, "young_child", id="young child (DOMAIN 2.4)"),
    ],
)  # fmt: skip
def test_each_rule_adds_its_factor_with_its_weight(changes, factor):
    plain = assess(a_situation(), POLICY)
    result = assess(a_situation(**changes), POLICY)
    added = {f.code for f in result.factors} - {f.code for f in plain.factors}
    assert added == {factor}
    weight = next(f.weight for f in result.factors if f.code == factor)
    assert result.score == plain.score + weight > 0


@pytest.mark.parametrize(
    ("facts", "flags"),
    [
        pytest.param(
            answers(cse=CseFacts(cse_risk=CseLevel.high, trafficking=True)),
            {"police_grade": False, "cse_high": True, "trafficking": True},
            id="CSE source: CIN 11A, 12A (DOMAIN 9.4)",
        ),
        pytest.param(
            answers(youth_justice=YouthJusticeFacts(open_case=True, county_lines=True)),
            {"police_grade": False, "yj_open_case": False, "county_lines": True},
            id="Youth Justice: county lines (DOMAIN 5.2)",
        ),
    ],
)
def test_triage_records_which_factors_are_exploitation(facts, flags):
    result = assess(a_situation(answers=facts), POLICY)
    assert {f.code: f.exploitation for f in result.factors} == flags


def test_police_grade_is_a_floor():
    """Triage never lowers the police grade (APP grades, DOMAIN 2.3)."""
    result = assess(a_situation(police_grade=RiskGrade.high), POLICY)
    assert result.level is RiskGrade.high


def test_sources_raise_the_level_above_the_police_grade():
    facts = answers(cse=CseFacts(cse_risk=CseLevel.high, cce=True))
    result = assess(a_situation(answers=facts), POLICY)
    assert result.level is RiskGrade.high
    assert {"strategy_discussion", "mcet_referral"} <= set(result.actions)


def test_an_unanswered_source_never_lowers_risk_and_is_named():
    answered = assess(a_situation(police_grade=RiskGrade.medium), POLICY)
    partial = a_situation(
        police_grade=RiskGrade.medium,
        answers={SourceName.cme: NotKnown()},
        unanswered=[SourceName.youth_justice, SourceName.cse],
    )
    result = assess(partial, POLICY)
    assert result.level.rank >= answered.level.rank
    assert result.unanswered == ["cse", "youth_justice"]
    assert "recheck_unanswered_sources" in result.actions


def test_cse_in_a_childrens_home_means_telling_ofsted():
    """CH Regs 2015 reg 40(4)(a) (DOMAIN 1.6, 9.19)."""
    situation = a_situation(
        placement_type=PlacementType.childrens_home,
        answers=answers(cse=CseFacts(cse_risk=CseLevel.medium)),
    )
    assert "notify_ofsted" in assess(situation, POLICY).actions


def test_every_factor_names_its_source_and_the_policy_version():
    facts = answers(youth_justice=YouthJusticeFacts(open_case=True))
    result = assess(a_situation(answers=facts), POLICY)
    assert {f.source for f in result.factors} == {"police", "youth_justice"}
    assert result.policy_version == POLICY.version


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("version = 'x'", "thresholds"),
        ("not toml [", "not valid TOML"),
        (Path(__file__).parents[3].joinpath("services/triage/policy.toml").read_text()
         .replace("high = 60\n\n[weights]", "high = 20\n\n[weights]"), "low <= medium"),
        (Path(__file__).parents[3].joinpath("services/triage/policy.toml").read_text()
         .replace("gangs = 25", "gangs = -1"), "weights.gangs"),
    ],
)  # fmt: skip
def test_invalid_policy_file_is_refused_with_the_reason(tmp_path, text, reason):
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(PolicyFileError, match=reason):
        load_policy(path)


def test_a_source_silent_now_keeps_what_it_said_last_time():
    """A source that does not answer never lowers risk, on a review either."""
    said = answers(youth_justice=YouthJusticeFacts(open_case=True, county_lines=True))
    before = assess(a_situation(answers=said), POLICY)
    silent = a_situation(
        answers={SourceName.cme: NotKnown(), SourceName.cse: NotKnown()},
        unanswered=[SourceName.youth_justice],
        last_known=before.factors,
    )
    after = assess(silent, POLICY)
    assert (after.level, after.score) == (before.level, before.score)
    carried = [f for f in after.factors if f.source == "youth_justice"]
    assert carried and all(f.evidence.endswith("(last known)") for f in carried)
    again = assess(replace(silent, last_known=after.factors), POLICY)
    assert [f.evidence for f in again.factors] == [f.evidence for f in after.factors]


def codes_of(situation: Situation) -> set[str]:
    return {f.code for f in assess(situation, POLICY).factors}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"hours_missing": 80}, {"missing_72h"},
            id="missing 80 hours: missing over 72 hours (DOMAIN 5.4)"),
        pytest.param({"hours_missing": 80, "episode_type": EpisodeType.away}, set(),
            id="away 80 hours: whereabouts known, not missing (DOMAIN 1.2, 3.2 A)"),
        pytest.param({"hours_missing": 25, "episode_type": EpisodeType.away}, set(),
            id="away 25 hours: not missing over 24 hours (DOMAIN 1.2, 3.2 A)"),
    ],
)  # fmt: skip
def test_time_weighs_only_on_a_missing_child(changes, expected):
    clock = {c for c in codes_of(a_situation(**changes)) if c.startswith("missing_")}
    assert clock == expected


def test_an_away_child_has_no_reviews_for_time_missing():
    """Time alone changes nothing while whereabouts are known (DOMAIN 1.2)."""
    assert POLICY.review_hours(EpisodeType.missing) == [24, 72]
    assert POLICY.review_hours(EpisodeType.away) == []


MISSING, AWAY = EpisodeType.missing, EpisodeType.away
IN_ERROR, CANCELLED = WithdrawalReason.reported_in_error, WithdrawalReason.cancelled


@pytest.mark.parametrize(
    ("episode_type", "history", "expected"),
    [
        pytest.param(MISSING, [earlier({30: 2, 90: 2, 365: 2})],
            "3 missing episodes in 90 days",
            id="this and 2 earlier missing: 3 in 90 days (DOMAIN 5.4)"),
        pytest.param(MISSING, [earlier({30: 2, 90: 2, 365: 2}, MISSING, IN_ERROR)],
            None,
            id="withdrawn as reported in error: never missing (DOMAIN 1.2, 9.16)"),
        pytest.param(MISSING, [earlier({30: 1, 90: 1, 365: 1}),
                               earlier({30: 1, 90: 1, 365: 1}, MISSING, CANCELLED)],
            "3 missing episodes in 90 days",
            id="a cancelled report was still an episode, of any length (DOMAIN 3.3)"),
        pytest.param(MISSING, [earlier({30: 2, 90: 2, 365: 2}, AWAY)], None,
            id="away counted apart from missing (DOMAIN 9.3, 9.16)"),
        pytest.param(MISSING, [earlier({30: 1, 90: 2, 365: 2}),
                               earlier({30: 4, 90: 4, 365: 4}, AWAY)],
            "3 missing episodes in 90 days; 4 away, counted apart",
            id="away episodes shown apart beside missing ones (DOMAIN 9.3)"),
        pytest.param(AWAY, [earlier({30: 2, 90: 2, 365: 2})], None,
            id="an away episode is not a third missing one (DOMAIN 9.3)"),
        pytest.param(AWAY, [earlier({30: 3, 90: 3, 365: 3})],
            "3 missing episodes in 90 days",
            id="a child away now who went missing 3 times (DOMAIN 5.4)"),
    ],
)  # fmt: skip
def test_frequently_missing_counts_missing_episodes_only(
    episode_type, history, expected
):
    situation = a_situation(episode_type=episode_type, history=history)
    found = [
        f.evidence
        for f in assess(situation, POLICY).factors
        if f.code == "frequently_missing"
    ]
    assert found == ([expected] if expected else [])


def test_frequency_alone_means_a_strategy_discussion():
    """Repeat missing escalates risk on its own (DOMAIN 5.4, 1.8): low risk, no
    exploitation, the threshold crossed."""
    plain = assess(a_situation(), POLICY)
    frequent = assess(a_situation(history=[earlier({30: 2, 90: 2, 365: 2})]), POLICY)
    assert "strategy_discussion" not in plain.actions
    assert frequent.level is not RiskGrade.high
    assert not any(f.exploitation for f in frequent.factors)
    assert "strategy_discussion" in frequent.actions


class TestFrequentlyMissingCrossing:
    """Once per crossing: the count goes from below the threshold to it (DOMAIN
    5.4); the policy file's threshold and window, away and in-error not counted."""

    @staticmethod
    def plain(before_missing: int, this_missing: bool) -> int | None:
        """Restated: N = 3 in 90 days; before < N <= after crosses."""
        after = before_missing + int(this_missing)
        return after if before_missing < 3 <= after else None

    @pytest.mark.parametrize("before", [0, 1, 2, 3, 4])
    @pytest.mark.parametrize("kind", [EpisodeType.missing, EpisodeType.away])
    def test_crosses_only_from_below(self, before, kind):
        s = a_situation(episode_type=kind, history=(earlier({90: before}),))
        assert assess(s, POLICY).crossed == self.plain(
            before, kind is EpisodeType.missing
        )

    def test_away_and_in_error_do_not_count(self):
        history: tuple[Earlier, ...] = (
            earlier({90: 1}),
            earlier({90: 3}, EpisodeType.away),
            earlier({90: 2}, withdrawn_as=WithdrawalReason.reported_in_error),
        )
        assert assess(a_situation(history=history), POLICY).crossed is None
        history = (*history, earlier({90: 1}))
        assert assess(a_situation(history=history), POLICY).crossed == 3

    def test_the_policy_files_threshold_and_window(self):
        policy = POLICY.model_copy(
            update={"frequently_missing_episodes": 5, "frequently_missing_days": 30}
        )
        s = a_situation(history=(earlier({30: 4, 90: 9}),))
        assert assess(s, policy).crossed == 5


class TestReturnInterviewConcerns:
    def test_concerns_raised_at_an_earlier_interview_weigh_as_exploitation(self):
        plain = assess(a_situation(), POLICY)
        concerned = assess(a_situation(interview_concerns=("gangs", "cse")), POLICY)
        [factor] = [f for f in concerned.factors if f.source == "history"]
        assert factor.code == "return_interview_concerns"
        assert factor.exploitation
        assert factor.evidence == (
            "exploitation concerns raised at a return interview: cse, gangs"
        )
        assert concerned.score == plain.score + 30  # the shipped weight
        assert "mcet_referral" in concerned.actions
        assert "strategy_discussion" in concerned.actions

    def test_a_policy_file_without_the_weight_is_still_valid(self, tmp_path: Path):
        text = DEFAULT.read_text()
        lines = [
            line
            for line in text.splitlines()
            if not line.startswith("return_interview_concerns")
        ]
        (tmp_path / "p.toml").write_text("\n".join(lines))
        assert load_policy(tmp_path / "p.toml").weights.return_interview_concerns == 30
