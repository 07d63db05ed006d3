"""Every channel ends a send the same way: a Receipt or a DeliveryError, logged with
the alert id, the channel and codes, never an address, a name or a message body."""

from __future__ import annotations

from datetime import datetime

import structlog

from services.notifier.channels import (
    DeliveryError,
    Message,
    Receipt,
    TemporaryDeliveryError,
)

log = structlog.get_logger()


def sent(
    channel: str, message: Message, *, provider_id: str | None, at: datetime
) -> Receipt:
    log.info(
        "channel_sent",
        channel=channel,
        alert_id=str(message.alert_id),
        provider_id=provider_id,
    )
    return Receipt(channel=channel, provider_id=provider_id, accepted_at=at)


def failed(error: DeliveryError, message: Message) -> DeliveryError:
    """Log, and hand the error back for the caller to raise."""
    log.warning(
        "channel_send_failed",
        channel=error.channel,
        alert_id=str(message.alert_id),
        status=error.status,
        error_type=error.code,
        retryable=isinstance(error, TemporaryDeliveryError),
    )
    return error
