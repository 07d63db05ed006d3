"""The web pages' parts, built once per process and kept in the container."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.web.people import People
from services.api.web.provider import Provider, provider_for
from services.api.web.sessions import Sessions
from services.api.web.settings import WebSettings


@dataclass(frozen=True)
class Web:
    """The web pages' parts, in the container."""

    people: People
    sessions: Sessions
    settings: WebSettings
    oidc: Provider | None = None
    """The council's OpenID Connect provider, when one is configured."""

    @property
    def secure_cookies(self) -> bool:
        return self.settings.web_public_url.startswith("https://")


def web_for(engine: AsyncEngine, settings: WebSettings) -> Web:
    return Web(
        people=People(engine),
        sessions=Sessions(
            engine,
            idle=timedelta(minutes=settings.web_idle_minutes),
            lifetime=timedelta(hours=settings.web_session_hours),
        ),
        settings=settings,
        oidc=provider_for(settings),
    )
