"""RiskAssessed v2: each factor says whether it is an exploitation concern. History
(v1) is upcast to say it as the notifier decided it then, and the schema given to
integrators shows it. That triage records it: test_policy.py, test_triage.py."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from events.contracts.triage import Factor, RiskAssessed, RiskReassessed
from events.registry import decode, decode_json
from services.cli import app

EXPLOITATION_ROWS = [
    pytest.param("cse_high", True, id="CSE risk high, CIN 11A (DOMAIN 9.4)"),
    pytest.param("cse_medium", True, id="CSE risk medium, CIN 11A (DOMAIN 9.4)"),
    pytest.param("cce", True, id="child criminal exploitation, CIN 24A (DOMAIN 9.4)"),
    pytest.param("trafficking", True, id="trafficking, CIN 12A (DOMAIN 9.4)"),
    pytest.param("gangs", True, id="gangs, CIN 13A (DOMAIN 9.4)"),
    pytest.param("county_lines", True, id="YJ county lines (DOMAIN 5.2)"),
    pytest.param("criminal_exploitation", True, id="YJ criminal exploitation (5.2)"),
    pytest.param("yj_serious_harm", False, id="YJ serious harm is not exploitation"),
    pytest.param("uasc", False, id="UASC is a trafficking risk, not a flag"),
    pytest.param("police_grade", False, id="the police grade is not exploitation"),
]


def a_v1(code: str, **extra: object) -> dict[str, object]:
    return {
        "episode_id": str(uuid4()), "level": "medium", "score": 40,
        "factors": [{"code": code, "source": "s", "evidence": "e", "weight": 30}],
        "actions": [], "sources_answered": ["cse"], "sources_missing": [],
        "policy_version": "2026-11-26.1", "assessed_at": "2026-11-26T15:00:00Z",
        "trigger": "reported", "next_review_at": None, **extra,
    }  # fmt: skip


@pytest.mark.parametrize(("code", "exploitation"), EXPLOITATION_ROWS)
@pytest.mark.parametrize(
    ("type_name", "extra"),
    [
        ("RiskAssessed", {}),
        ("RiskReassessed", {"previous_level": "low", "added": [], "removed": []}),
    ],
)
def test_a_v1_factor_is_flagged_as_the_notifier_flagged_it(
    type_name: str, extra: dict[str, object], code: str, exploitation: bool
):
    stored = a_v1(code, **extra)
    for read in (
        decode(type_name, 1, stored),
        decode_json(type_name, 1, json.dumps(stored)),
    ):
        assert type(read).__name__ == type_name
        assert isinstance(read, RiskAssessed)
        assert [f.exploitation for f in read.factors] == [exploitation]


def test_a_v2_event_reads_back_as_itself():
    factor = Factor(
        code="gangs", source="cse", evidence="gangs (13A)", weight=25, exploitation=True
    )
    event = RiskAssessed.model_validate(a_v1("gangs") | {"factors": [factor]})
    assert RiskReassessed.schema_version == RiskAssessed.schema_version == 2
    assert decode_json("RiskAssessed", 2, json.dumps(event.to_data())) == event


def test_the_exported_schema_is_v2_and_requires_the_flag(tmp_path: Path):
    result = CliRunner().invoke(app, ["events", "schema", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("RiskAssessed", "RiskReassessed"):
        schema = json.loads((tmp_path / f"{name}.v2.json").read_text())
        assert schema["$id"] == f"urn:lantern:schema:{name}:v2"
        assert "exploitation" in schema["$defs"]["Factor"]["required"]
    assert not list(tmp_path.glob("RiskAssessed.v1.json"))
