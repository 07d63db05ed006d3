"""Triage's settings: the shared ones, where the sources are, and the policy."""

from pathlib import Path

from pydantic import Field

from services.records.settings import CouncilSettings
from services.triage.policy_file import DEFAULT
from services.triage.sources.settings import SourcesSettings


class TriageSettings(CouncilSettings, SourcesSettings):
    triage_budget_s: float = Field(
        2.0, gt=0, le=30, description="Longest wait for the sources before scoring"
    )
    triage_policy_file: Path = Field(DEFAULT, description="Weights and thresholds")
    triage_review_poll_s: float = Field(
        5.0, gt=0, description="How often due reviews are looked for"
    )
    triage_recheck_s: float = Field(
        60.0, gt=0, description="When to ask again a source that did not answer"
    )
