"""The web layer's settings: where to listen, how fast each API client may go, how
many failed authentications an address gets before it must wait, and the staff's
sign-in (web/settings.py)."""

from pydantic import Field

from services.api.web.settings import WebSettings


class HttpSettings(WebSettings):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    rate_limit_per_minute: int = Field(
        600, ge=1, description="Sustained requests per minute per API client"
    )
    rate_limit_burst: int = Field(100, ge=1, description="Requests allowed at once")
    auth_failures_per_minute: int = Field(
        30, ge=1, description="Failed authentications a minute per source address"
    )
    auth_failures_burst: int = Field(
        20, ge=1, description="Failed authentications from one address before 429"
    )
