"""The notifier's settings: when to escalate, how hard to retry, where acknowledgement
links point; with the channels' own (channels/settings.py)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator

from services.notifier.channels.settings import ChannelsSettings
from services.records.settings import CouncilSettings


class NotifierSettings(CouncilSettings, ChannelsSettings):
    notifier_public_url: str = Field(
        "http://127.0.0.1:8000",
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="Where recipients reach Lantern's API: the base of ack links",
    )
    notifier_link_secret: SecretStr | None = Field(
        None,
        min_length=32,
        description="Signs one-click ack links; unset: a key kept in the database "
        "(refused in production)",
    )
    notifier_escalate_after_minutes: float = Field(
        15, gt=0, le=1440, description="Unacknowledged high risk goes up a step"
    )
    notifier_update_window_s: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="News within this time of an update's first news goes in it",
    )
    notifier_attempts_per_channel: int = Field(
        8, ge=1, le=50, description="Temporary failures before the next channel"
    )
    notifier_attempts_on_last_channel: int = Field(
        20,
        ge=1,
        le=100,
        description="Temporary failures before a recipient's last channel gives up",
    )
    notifier_retry_first_s: float = Field(2.0, gt=0, le=600)
    notifier_retry_max_s: float = Field(300.0, gt=0, le=86400)
    notifier_poll_s: float = Field(1.0, gt=0, le=60)
    notifier_escalation_poll_s: float = Field(5.0, gt=0, le=600)
    notifier_lease_s: float = Field(
        90.0,
        gt=0,
        le=3600,
        description="How long a claimed message is its sender's; longer than every"
        " channel's timeout: a lease that runs out means a dead sender",
    )

    @model_validator(mode="after")
    def _production_has_its_link_key(self) -> Self:
        """A key kept in the database would sit beside the data it protects, and
        be copied with every backup: production brings its own."""
        if self.environment == "production" and self.notifier_link_secret is None:
            raise ValueError(
                "LANTERN_NOTIFIER_LINK_SECRET: required in production "
                "(at least 32 characters; it signs acknowledgement links)"
            )
        return self

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Self:
        """A lease that ran out while its send was still under way would let a
        second sender start the same attempt."""
        c = self.channels
        longest = max(c.email.timeout_s, c.notify.timeout_s, c.webhook.timeout_s)
        if self.notifier_lease_s <= longest:
            raise ValueError(
                f"LANTERN_NOTIFIER_LEASE_S: must be longer than every channel's"
                f" timeout ({longest:g} s)"
            )
        return self
