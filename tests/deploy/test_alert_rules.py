"""The Prometheus alert rules (deploy/prometheus/rules.yaml): valid for promtool,
their unit tests (rules.test.yaml) pass, they use only the metric names decided in
issue #22, and each names its severity and a runbook that exists."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
OPERATIONS = ROOT / "docs" / "operations.md"
# The names decided in issue #22; a rule on any other name would never fire.
METRICS = {
    "up",
    "lantern_subscription_lag_events",
    "lantern_subscription_lag_seconds",
    "lantern_subscription_parked",
    "lantern_relay_lag_events",
    "lantern_relay_lag_seconds",
    "lantern_alerts_open",
    "lantern_alerts_unacknowledged",
    "lantern_alerts_escalated",
    "lantern_messages_total",
    "lantern_message_latency_seconds_bucket",
    "lantern_messages_pending_oldest_seconds",
    "lantern_source_calls_total",
    "lantern_source_call_duration_seconds_bucket",
    "lantern_interviews_due",
    "lantern_interviews_overdue",
}


@pytest.fixture(scope="session")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail(
            "promtool is not on the PATH: deploy/local/setup.sh --dev installs it"
        )
    return found


def run(*command: str) -> str:
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=PROMETHEUS,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def rules() -> list[dict]:
    groups = yaml.safe_load((PROMETHEUS / "rules.yaml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to `-`."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    return {
        re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings
    }


def test_the_rules_and_the_compose_prometheus_config_are_valid(promtool):
    assert f"SUCCESS: {len(rules())} rules found" in run(
        promtool, "check", "rules", "rules.yaml"
    )
    run(promtool, "check", "config", "prometheus.yml")


def test_the_rules_unit_tests_pass(promtool):
    assert "SUCCESS" in run(promtool, "test", "rules", "rules.test.yaml")


def test_the_issue_asks_for_these_alerts():
    assert {
        "LanternProcessDown",
        "LanternSubscriptionLagging",
        "LanternMessageParked",
        "LanternAlertNotSent",
        "LanternSourceDown",
        "LanternSourceFailing",
        "LanternInterviewsOverdue",
        "LanternRelayLagging",
    } <= {rule["alert"] for rule in rules()}


def test_every_rule_uses_only_the_decided_metric_names():
    for rule in rules():
        names = set(re.findall(r"\b(lantern_\w+|up)\b", rule["expr"]))
        assert names and names <= METRICS, (rule["alert"], names - METRICS)


def test_every_alert_has_a_severity_a_summary_and_a_runbook_that_exists():
    documented = anchors(OPERATIONS.read_text())
    for rule in rules():
        assert rule["labels"]["severity"] in {"page", "ticket"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        page, anchor = rule["annotations"]["runbook_url"].split("#")
        assert page == "docs/operations.md", rule["alert"]
        assert anchor == rule["alert"].lower() and anchor in documented, rule["alert"]


def test_every_alert_is_tested_firing_and_not_firing():
    tests = yaml.safe_load((PROMETHEUS / "rules.test.yaml").read_text())["tests"]
    seen: dict[str, set[bool]] = defaultdict(set)
    for test in tests:
        for case in test["alert_rule_test"]:
            seen[case["alertname"]].add(bool(case.get("exp_alerts")))
    for rule in rules():
        assert seen[rule["alert"]] == {True, False}, rule["alert"]
