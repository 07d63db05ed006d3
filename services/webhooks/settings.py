"""The webhook subscriptions' delivery settings."""

from pydantic import Field

from events.settings import CoreSettings


class WebhooksSettings(CoreSettings):
    webhooks_timeout_s: float = Field(
        5.0, gt=0, le=60, description="Each POST to a subscriber, the lookup included"
    )
    webhooks_retry_first_s: float = Field(
        1.0, gt=0, description="The first retry's ceiling; doubled each time, jittered"
    )
    webhooks_retry_max_s: float = Field(
        300.0, gt=0, description="The longest wait between two retries"
    )
    webhooks_pause_after_s: float = Field(
        86_400.0,
        gt=0,
        description="A subscription failing this long is paused, its owner told",
    )
    webhooks_poll_s: float = Field(
        1.0, gt=0, description="How often new events are looked for, at most"
    )
    webhooks_page_size: int = Field(200, gt=0, le=10_000)
