"""The failure path of a delivery: whether a failed attempt is tried again, and when,
or is final on its channel; and a final failure told to the duty team, so that a
person makes sure the recipient is told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from events.contracts.alerts import AlertDeliveryFailed, AlertFailureReported
from events.registry import Event
from events.subscriptions import RetryPolicy
from services.notifier.channels import DeliveryError, TemporaryDeliveryError
from services.notifier.claims import Delivery
from services.notifier.handlers import Notifier, alert_contact
from services.notifier.routing import channels_for

log = structlog.get_logger()


@dataclass(frozen=True)
class DeliveryPolicy:
    """A channel with another after it gives up soon (8 attempts, about two minutes),
    so the recipient hears by the next one. Their last channel keeps trying (20
    attempts, about half an hour): no other will tell them, and the fault drill's
    2-minute SMTP outage lost the duty team's e-mails after 8 (docs/operations.md,
    Fault drill)."""

    attempts_per_channel: int = 8
    backoff: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(first_delay=2.0, max_delay=300.0)
    )
    attempts_on_last_channel: int = 20

    def retry_at(
        self, attempt: int, error: DeliveryError, now: datetime, *, last: bool = False
    ) -> datetime | None:
        """When to try the channel again (backoff, or the provider's Retry-After if
        longer); None when this failure is final on the channel. ``last``: the
        recipient has no channel after this one."""
        temporary = isinstance(error, TemporaryDeliveryError)
        attempts = self.attempts_on_last_channel if last else self.attempts_per_channel
        if not temporary or attempt >= attempts:
            return None
        wait = self.backoff.delay(attempt - 1)
        hinted = getattr(error, "retry_after", None) or 0.0
        return now + timedelta(seconds=max(wait, hinted))


class Failures:
    def __init__(self, notifier: Notifier, policy: DeliveryPolicy) -> None:
        self.notifier = notifier
        self.policy = policy

    async def failed(
        self, d: Delivery, attempt: int, error: DeliveryError
    ) -> list[Event]:
        """What to record of a failed attempt: the failure, and when it is final
        (the next channel is the projector's), the notice to the duty team."""
        now = self.notifier.now()
        retry_at = self.policy.retry_at(attempt, error, now, last=d.last_channel)
        permanent = retry_at is None
        failed: list[Event] = [
            AlertDeliveryFailed(
                alert_id=d.alert_id,
                delivery_id=d.delivery_id,
                kind=d.kind,
                channel=d.channel,
                attempt=attempt,
                code=error.code,
                status=error.status,
                permanent=permanent,
                retry_at=retry_at,
                failed_at=now,
            )
        ]
        if permanent and d.kind != "failure":
            failed += await self._tell_duty_team(d, now)
        return failed

    async def _tell_duty_team(self, d: Delivery, now: datetime) -> list[Event]:
        duty = (await self.notifier.directory()).duty_team
        if duty is None or duty.recipient_id == d.contact.recipient_id:
            return []
        log.warning("delivery_failed_for_good", alert_id=str(d.alert_id), role=d.role)
        return [
            AlertFailureReported(
                alert_id=d.alert_id,
                failed_delivery_id=d.delivery_id,
                contact=alert_contact(duty),
                channels=channels_for(duty, self.notifier.configured_channels),
                reported_at=now,
            )
        ]
