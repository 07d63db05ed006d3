"""How staff sign in to the web pages, and how long a session lasts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from events.settings import CoreSettings

RoleName = Literal["staff", "analyst", "manager"]


def _default_role_groups() -> dict[str, RoleName]:
    return {
        "lantern-staff": "staff",
        "lantern-analysts": "analyst",
        "lantern-managers": "manager",
    }


class WebSettings(CoreSettings):
    web_public_url: str = Field(
        "http://127.0.0.1:8000",
        pattern=r"^https?://[^\s/]+$",
        description="Where staff reach Lantern: the base of sign-in links and the "
        "OpenID Connect redirect",
    )
    web_idle_minutes: float = Field(
        60, gt=0, le=24 * 60, description="A session nobody uses ends after this"
    )
    web_session_hours: float = Field(
        12, gt=0, le=7 * 24, description="A session ends after this however used"
    )
    web_sign_in_link_hours: float = Field(
        24, gt=0, le=7 * 24, description="How long a local account's link works"
    )
    oidc_issuer: str | None = Field(
        None,
        pattern=r"^https?://\S+$",
        description="The council's OpenID Connect provider; unset: local accounts",
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_groups_claim: str = Field(
        "groups", description="The ID token claim listing the person's groups"
    )
    oidc_role_groups: dict[str, RoleName] = Field(
        default_factory=_default_role_groups,
        description="The council's group names, each to a Lantern role (JSON)",
    )

    @model_validator(mode="after")
    def _provider_complete(self) -> WebSettings:
        if self.oidc_issuer is not None and not self.oidc_client_id:
            raise ValueError(
                "LANTERN_OIDC_CLIENT_ID is needed with LANTERN_OIDC_ISSUER"
            )
        return self
