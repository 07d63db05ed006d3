"""Where each source lives, from LANTERN_SOURCES__<SOURCE>__<FIELD> variables, and
the one place adapters are chosen for the sources a council has configured."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.triage.sources import RiskSource, SourceName
from services.triage.sources.cme import HttpCmeSource
from services.triage.sources.cse import HttpCseSource
from services.triage.sources.http import HttpSource, SourceSettings
from services.triage.sources.youth_justice import HttpYouthJusticeSource

ADAPTERS: dict[SourceName, type[HttpSource]] = {
    SourceName.youth_justice: HttpYouthJusticeSource,
    SourceName.cme: HttpCmeSource,
    SourceName.cse: HttpCseSource,
}


class SourcesConfig(BaseModel):
    youth_justice: SourceSettings = Field(default_factory=SourceSettings)
    cme: SourceSettings = Field(default_factory=SourceSettings)
    cse: SourceSettings = Field(default_factory=SourceSettings)

    def of(self, name: SourceName) -> SourceSettings:
        settings: SourceSettings = getattr(self, name.value)
        return settings


class SourcesSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LANTERN_", env_nested_delimiter="__", extra="ignore"
    )

    sources: SourcesConfig = Field(default_factory=SourcesConfig)


def build_sources(
    settings: SourcesSettings, new_client: Callable[[], httpx.AsyncClient]
) -> list[RiskSource]:
    """Adapters for the configured sources only; one with no base_url is left out,
    and triage counts it as not answered. Each adapter gets a client of its own:
    httpx checks every idle connection of a pool on every request, so one pool
    shared by all of them costs more per request the busier the others are."""
    return [
        ADAPTERS[name](settings.sources.of(name), new_client())
        for name in SourceName
        if settings.sources.of(name).configured
    ]
