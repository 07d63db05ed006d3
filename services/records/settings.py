"""Which council this Lantern serves: every child whose placing authority is another
council is that council's child, placed here (services/records/council.py)."""

from __future__ import annotations

from pydantic import Field, field_validator

from events.settings import CoreSettings
from services.records.authorities import la_codes


class CouncilSettings(CoreSettings):
    council_la_code: str = Field(
        "886",
        description="This council's DfE LA code (886: Kent, the demo council)",
    )

    @field_validator("council_la_code")
    @classmethod
    def _known(cls, code: str) -> str:
        if code not in la_codes():
            raise ValueError("is not a known local authority code")
        return code
