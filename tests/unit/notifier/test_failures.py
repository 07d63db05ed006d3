"""A failed attempt: tried again after a backoff (or the provider's Retry-After if
longer), or final on its channel. One row per case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events.subscriptions import RetryPolicy
from services.notifier.channels import (
    DeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from services.notifier.failures import DeliveryPolicy

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
POLICY = DeliveryPolicy(3, RetryPolicy(first_delay=2.0, max_delay=300.0))


@pytest.mark.parametrize(
    ("error", "attempt", "latest"),
    [
        pytest.param(TemporaryDeliveryError("sms", "timeout"), 1, 2.0,
                     id="first retry within 2 s"),
        pytest.param(TemporaryDeliveryError("sms", "timeout"), 2, 4.0,
                     id="the backoff doubles"),
    ],
)  # fmt: skip
def test_a_temporary_failure_is_tried_again_after_a_backoff(error, attempt, latest):
    retry_at = POLICY.retry_at(attempt, error, NOW)
    assert retry_at is not None
    assert NOW <= retry_at <= NOW + timedelta(seconds=latest)


def test_a_longer_retry_after_is_honoured():
    error = TemporaryDeliveryError("sms", "RateLimitError", retry_after=600)
    assert POLICY.retry_at(1, error, NOW) == NOW + timedelta(seconds=600)


@pytest.mark.parametrize(
    ("error", "attempt"),
    [
        pytest.param(PermanentDeliveryError("webhook", "http_410"), 1,
                     id="a permanent failure"),
        pytest.param(DeliveryError("email", "smtp_550"), 1,
                     id="a failure not known to be temporary"),
        pytest.param(TemporaryDeliveryError("sms", "timeout"), 3,
                     id="the last attempt on the channel"),
    ],
)  # fmt: skip
def test_a_final_failure_is_not_tried_again_on_the_channel(error, attempt):
    assert POLICY.retry_at(attempt, error, NOW) is None


LAST = DeliveryPolicy(3, RetryPolicy(first_delay=2.0, max_delay=300.0),
                      attempts_on_last_channel=5)  # fmt: skip


def test_a_recipients_last_channel_keeps_trying_after_the_others_would_stop():
    """Nobody else will tell them: the fault drill's SMTP outage lost the duty team's
    e-mails when their only channel gave up with the others' budget."""
    error = TemporaryDeliveryError("email", "SMTPConnectError")
    assert LAST.retry_at(3, error, NOW) is None  # another channel follows: move on
    assert LAST.retry_at(3, error, NOW, last=True) is not None
    assert LAST.retry_at(4, error, NOW, last=True) is not None
    assert LAST.retry_at(5, error, NOW, last=True) is None  # its own budget spent


def test_the_last_channel_still_stops_at_once_on_a_permanent_failure():
    error = PermanentDeliveryError("email", "smtp_550")
    assert LAST.retry_at(1, error, NOW, last=True) is None
