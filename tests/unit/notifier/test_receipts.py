"""Notify delivery-receipt callbacks: the four final statuses, strictly, and no
recipient details kept (DOMAIN.md section 7 and rule 9.20)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from services.notifier.channels.notify_receipts import (
    DeliveryStatus,
    InvalidReceiptError,
    callback_authorised,
    parse_delivery_receipt,
)

PHONE = "07700900123"


def a_callback(**overrides: Any) -> bytes:
    body = {
        "id": "740e5834-3a29-46b4-9a6f-16142fde533a",
        "reference": "8b6a3f7e-1d2c-5e4f-9a8b-7c6d5e4f3a2b",
        "to": PHONE,
        "status": "delivered",
        "created_at": "2026-05-14T12:15:30.000000Z",
        "completed_at": "2026-05-14T12:15:31.000000Z",
        "sent_at": "2026-05-14T12:15:30.500000Z",
        "notification_type": "sms",
        "template_id": "f33517ff-2a88-4f6e-b855-c550268ce08a",
        "template_version": 1,
    } | overrides
    return json.dumps(body).encode()


class TestParse:
    def test_a_delivered_receipt(self):
        receipt = parse_delivery_receipt(a_callback())
        assert receipt.id == uuid.UUID("740e5834-3a29-46b4-9a6f-16142fde533a")
        assert receipt.reference == "8b6a3f7e-1d2c-5e4f-9a8b-7c6d5e4f3a2b"
        assert receipt.status is DeliveryStatus.delivered
        assert receipt.completed_at == datetime(2026, 5, 14, 12, 15, 31, tzinfo=UTC)
        assert receipt.notification_type == "sms"
        assert not receipt.retryable

    def test_the_recipients_number_is_not_kept(self):
        receipt = parse_delivery_receipt(a_callback())
        assert "to" not in receipt.model_dump()
        assert PHONE not in repr(receipt)
        assert PHONE not in receipt.model_dump_json()

    @pytest.mark.parametrize(
        ("status", "retryable"),
        [
            ("delivered", False),
            pytest.param("permanent-failure", False, id="9.20-permanent-not-retried"),
            pytest.param("temporary-failure", True, id="9.20-temporary-retried"),
            pytest.param("technical-failure", True, id="9.20-technical-retried"),
        ],
    )
    def test_each_final_status(self, status: str, retryable: bool):
        receipt = parse_delivery_receipt(a_callback(status=status))
        assert receipt.status == status
        assert receipt.retryable is retryable

    def test_null_reference_and_times_are_allowed(self):
        body = a_callback(reference=None, completed_at=None, sent_at=None)
        receipt = parse_delivery_receipt(body)
        assert receipt.reference is None
        assert receipt.completed_at is None

    def test_an_email_receipt(self):
        body = a_callback(notification_type="email", to="someone@example.org")
        assert parse_delivery_receipt(body).notification_type == "email"

    def test_str_is_accepted_as_well_as_bytes(self):
        assert parse_delivery_receipt(a_callback().decode()).status == "delivered"


class TestRejected:
    @pytest.mark.parametrize(
        "status", ["sending", "created", "pending", "sent", "failed", "Delivered", ""]
    )
    def test_a_status_that_is_not_final(self, status: str):
        with pytest.raises(InvalidReceiptError, match="status:enum"):
            parse_delivery_receipt(a_callback(status=status))

    @pytest.mark.parametrize(
        ("overrides", "where"),
        [
            ({"id": "not-a-uuid"}, "id:uuid_parsing"),
            ({"notification_type": "letter"}, "notification_type:literal_error"),
            ({"created_at": "2026-05-14T12:15:30"}, "created_at:timezone_aware"),
            ({"completed_at": 1_778_761_000}, "completed_at:time_format"),
            ({"status": None}, "status:enum"),
        ],
    )
    def test_a_malformed_field_is_named_without_its_value(
        self, overrides: dict[str, Any], where: str
    ):
        with pytest.raises(InvalidReceiptError) as caught:
            parse_delivery_receipt(a_callback(**overrides))
        assert where in str(caught.value)
        assert PHONE not in str(caught.value)
        for value in overrides.values():
            assert value is None or str(value) not in str(caught.value)

    def test_a_missing_field(self):
        body = json.loads(a_callback())
        del body["status"]
        with pytest.raises(InvalidReceiptError, match="status:missing"):
            parse_delivery_receipt(json.dumps(body))

    @pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'"delivered"'])
    def test_not_a_receipt_at_all(self, body: bytes):
        with pytest.raises(InvalidReceiptError):
            parse_delivery_receipt(body)


class TestCallbackToken:
    @pytest.mark.parametrize(
        ("header", "ok"),
        [
            ("Bearer the-token", True),
            ("bearer the-token", True),
            ("Bearer the-token-plus", False),
            ("Bearer ", False),
            ("Basic the-token", False),
            ("the-token", False),
            (None, False),
        ],
    )
    def test_only_the_agreed_bearer_token(self, header: str | None, ok: bool):
        assert callback_authorised("the-token", header) is ok
