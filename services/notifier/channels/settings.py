"""How each channel is reached, from LANTERN_CHANNELS__<CHANNEL>__<FIELD> variables,
and the one place adapters are chosen for the channels a council has configured."""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.notifier.channels import Channel
from services.notifier.channels.email import SmtpEmailChannel, SmtpSettings
from services.notifier.channels.notify import (
    NotifyEmailChannel,
    NotifySettings,
    NotifySmsChannel,
)
from services.notifier.channels.webhook import WebhookChannel, WebhookSettings


class ChannelsConfig(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)  # inputs include secrets

    email_provider: Literal["smtp", "notify"] = Field(
        "smtp", description="Who carries e-mail: the SMTP relay or GOV.UK Notify"
    )
    email: SmtpSettings = Field(default_factory=SmtpSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)


class ChannelsSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LANTERN_",
        env_nested_delimiter="__",
        extra="ignore",
        hide_input_in_errors=True,
    )

    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)


def build_channels(
    settings: ChannelsSettings, client: httpx.AsyncClient
) -> dict[str, Channel]:
    """Adapters by channel name ("email", "sms", "webhook") for the configured
    channels only; a recipient reachable only by a missing one is routing's call."""
    config = settings.channels
    channels: dict[str, Channel] = {}
    if config.email_provider == "smtp" and config.email.configured:
        channels["email"] = SmtpEmailChannel(config.email)
    if config.email_provider == "notify" and config.notify.email_configured:
        channels["email"] = NotifyEmailChannel(config.notify, client)
    if config.notify.sms_configured:
        channels["sms"] = NotifySmsChannel(config.notify, client)
    if config.webhook.configured:
        channels["webhook"] = WebhookChannel(config.webhook, client)
    return channels
