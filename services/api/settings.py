"""The web layer's settings: where to listen, and how fast each API client may go."""

from pydantic import Field

from events.settings import CoreSettings


class HttpSettings(CoreSettings):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    rate_limit_per_minute: int = Field(
        600, ge=1, description="Sustained requests per minute per API client"
    )
    rate_limit_burst: int = Field(100, ge=1, description="Requests allowed at once")
