"""Intake's settings: the shared ones plus where to listen."""

from pydantic import Field

from events.settings import CoreSettings


class IntakeSettings(CoreSettings):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    rate_limit_per_minute: int = Field(
        600, ge=1, description="Sustained requests per minute per API client"
    )
    rate_limit_burst: int = Field(100, ge=1, description="Requests allowed at once")
