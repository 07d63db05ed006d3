"""GOV.UK Notify's delivery-receipt callbacks: a text or e-mail was delivered, or
failed for good, or failed for now (DOMAIN.md section 7, rule 9.20).

Parsing is pure and strict: only the four final statuses are accepted, and the
receipt keeps ids, the status and the times. The recipient's number or address
(`to`) is dropped on reading; Lantern already knows who it wrote to.
"""

from __future__ import annotations

import hmac
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError

from services.api.schemas import Moment


class DeliveryStatus(StrEnum):
    delivered = "delivered"
    permanent_failure = "permanent-failure"
    temporary_failure = "temporary-failure"
    technical_failure = "technical-failure"


class DeliveryReceipt(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    id: UUID  # Notify's notification id: the Receipt's provider_id
    reference: str | None = None  # the idempotency key we sent
    status: DeliveryStatus
    notification_type: Literal["sms", "email"]
    created_at: Moment
    completed_at: Moment | None = None
    sent_at: Moment | None = None
    template_id: UUID | None = None
    template_version: int | None = None

    @property
    def retryable(self) -> bool:
        """Temporary and technical failures may succeed on a resend; a permanent
        failure (no such number, inbox gone) will not."""
        return self.status in (
            DeliveryStatus.temporary_failure,
            DeliveryStatus.technical_failure,
        )


class InvalidReceiptError(ValueError):
    """Which fields were wrong and how, without their values."""


def parse_delivery_receipt(body: str | bytes) -> DeliveryReceipt:
    try:
        return DeliveryReceipt.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidReceiptError(_where(exc)) from None


def _where(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '<body>'}:{e['type']}"
        for e in exc.errors(include_url=False, include_input=False)[:5]
    )


def callback_authorised(expected: str, authorization: str | None) -> bool:
    """Notify sends the bearer token set up with the callback URL; compared in
    constant time."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.encode(), expected.encode())
