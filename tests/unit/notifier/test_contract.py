"""The channel contract's pure parts: idempotency keys, what counts as temporary or
permanent for each provider, the Notify key and token, composing an e-mail, and
the settings that choose the adapters."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import aiosmtplib
import httpx
import jwt
import pytest
from pydantic import ValidationError

from services.notifier.channels import (
    Message,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    idempotency_key,
)
from services.notifier.channels.email import SmtpSettings, compose, smtp_error
from services.notifier.channels.http import retry_after
from services.notifier.channels.notify import (
    NotifyEmailChannel,
    NotifyKey,
    NotifySmsChannel,
    notify_error,
)
from services.notifier.channels.settings import ChannelsSettings, build_channels
from services.notifier.channels.webhook import WebhookChannel, webhook_error

ALERT = uuid.UUID("0b5f0d0e-8c1b-4a57-9b0a-3f1f9c2d7e11")
NOW = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)
SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"lantern_test-{SERVICE_ID}-{SECRET}"


def a_message(**overrides: Any) -> Message:
    fields: dict[str, Any] = {
        "alert_id": ALERT,
        "recipient_id": "staff-0042",
        "kind": "alert",
        "subject": "Ada Fictitious reported missing",
        "body": "Ada Fictitious, 16, missing from placement since 21:40.",
        "ack_url": "https://lantern.example/ack/abc",
        "email": "sw.one@council.example",
        "phone": "07700900123",
        "webhook_url": "https://cms.example/hooks/lantern",
    } | overrides
    return Message(**fields)


class TestIdempotencyKey:
    def test_the_same_message_to_the_same_recipient_always_has_the_same_key(self):
        assert a_message().idempotency_key == a_message().idempotency_key
        assert a_message().idempotency_key == idempotency_key(
            ALERT, "alert", "staff-0042"
        )

    @pytest.mark.parametrize(
        "change",
        [
            {"recipient_id": "staff-0043"},
            {"alert_id": uuid.UUID(int=1)},
            {"kind": "update"},
            {"kind": "escalation"},
        ],
    )
    def test_another_recipient_alert_or_kind_has_another_key(self, change: dict):
        assert a_message(**change).idempotency_key != a_message().idempotency_key

    def test_the_key_is_an_opaque_uuid_whatever_the_message_says(self):
        key = a_message().idempotency_key
        assert str(uuid.UUID(key)) == key
        assert a_message(subject="x", body="y", phone=None).idempotency_key == key

    def test_personal_data_stays_out_of_repr(self):
        text = repr(a_message())
        for secret in ("Ada", "07700900123", "sw.one@", "cms.example", "ack/abc"):
            assert secret not in text
        assert str(ALERT) in text


class TestTemporaryOrPermanent:
    @pytest.mark.parametrize(
        ("status", "error", "temporary", "code"),
        [
            (429, "RateLimitError", True, "RateLimitError"),
            (500, "Exception", True, "Exception"),
            (502, None, True, "http_502"),
            (400, "ValidationError", False, "ValidationError"),
            (400, "BadRequestError", False, "BadRequestError"),
            (403, "AuthError", False, "AuthError"),
            (404, None, False, "http_404"),
        ],
    )
    def test_notify(self, status: int, error: str | None, temporary: bool, code: str):
        body = {"status_code": status, "errors": [{"error": error, "message": "m"}]}
        content = json.dumps(body).encode() if error else b"<html>oops</html>"
        mapped = notify_error("sms", status, content, None, now=NOW)
        kind = TemporaryDeliveryError if temporary else PermanentDeliveryError
        assert type(mapped) is kind
        assert (mapped.code, mapped.status) == (code, status)

    def test_notify_error_text_is_never_the_code(self):
        body = {
            "errors": [{"error": "phone 07700900123 bad", "message": "07700900123"}]
        }
        mapped = notify_error("sms", 400, json.dumps(body).encode(), None, now=NOW)
        assert mapped.code == "http_400"

    def test_notify_daily_limit_waits_until_midnight_utc(self):
        body = {"errors": [{"error": "TooManyRequestsError", "message": "m"}]}
        mapped = notify_error("sms", 429, json.dumps(body).encode(), None, now=NOW)
        assert isinstance(mapped, TemporaryDeliveryError)
        assert mapped.retry_after == 2 * 3600

    def test_notify_rate_limit_takes_retry_after_when_given(self):
        body = {"errors": [{"error": "RateLimitError", "message": "m"}]}
        mapped = notify_error("sms", 429, json.dumps(body).encode(), "7", now=NOW)
        assert isinstance(mapped, TemporaryDeliveryError)
        assert mapped.retry_after == 7

    @pytest.mark.parametrize(
        ("status", "temporary"),
        [(500, True), (503, True), (408, True), (429, True), (400, False),
         (401, False), (404, False), (410, False), (301, False)],
    )  # fmt: skip
    def test_webhook(self, status: int, temporary: bool):
        mapped = webhook_error(status, None, now=NOW)
        kind = TemporaryDeliveryError if temporary else PermanentDeliveryError
        assert type(mapped) is kind
        assert mapped.code == f"http_{status}"

    @pytest.mark.parametrize(
        ("exc", "temporary", "code"),
        [
            (aiosmtplib.SMTPResponseException(451, "try later"), True, "smtp_451"),
            (aiosmtplib.SMTPResponseException(550, "no <a@b>"), False, "smtp_550"),
            (aiosmtplib.SMTPAuthenticationError(535, "bad creds"), False, "smtp_535"),
            (
                aiosmtplib.SMTPRecipientsRefused(
                    [aiosmtplib.SMTPRecipientRefused(452, "full", "a@b")]
                ),
                True,
                "smtp_452",
            ),
            (aiosmtplib.SMTPConnectError("refused"), True, "SMTPConnectError"),
            (aiosmtplib.SMTPServerDisconnected("gone"), True, "SMTPServerDisconnected"),
            (aiosmtplib.SMTPReadTimeoutError("slow"), True, "timeout"),
            (TimeoutError(), True, "timeout"),
            (ConnectionRefusedError(), True, "ConnectionRefusedError"),
            (aiosmtplib.SMTPNotSupported("no utf8"), False, "smtp_not_supported"),
            (aiosmtplib.SMTPException("no STARTTLS"), False, "smtp_not_supported"),
        ],
    )
    def test_smtp(self, exc: Exception, temporary: bool, code: str):
        mapped = smtp_error(exc)
        kind = TemporaryDeliveryError if temporary else PermanentDeliveryError
        assert type(mapped) is kind
        assert mapped.code == code


class TestRetryAfter:
    @pytest.mark.parametrize(
        ("header", "seconds"),
        [
            ("30", 30.0),
            (" 0 ", 0.0),
            ("Sun, 01 Mar 2026 22:01:00 GMT", 60.0),
            ("Sun, 01 Mar 2026 21:00:00 GMT", 0.0),
            (None, None),
            ("", None),
            ("soon", None),
            ("-5", None),
        ],
    )
    def test_seconds_or_an_http_date(self, header: str | None, seconds: float | None):
        assert retry_after(header, now=NOW) == seconds


class TestNotifyKey:
    def test_service_id_and_secret_are_the_two_trailing_uuids(self):
        key = NotifyKey.parse(API_KEY)
        assert (key.service_id, key.secret) == (SERVICE_ID, SECRET)
        assert SECRET not in repr(key)

    def test_a_key_name_may_contain_hyphens(self):
        key = NotifyKey.parse(f"my-key-name-{SERVICE_ID}-{SECRET}")
        assert key.service_id == SERVICE_ID

    def test_the_token_is_hs256_with_issuer_and_issued_at(self):
        token = NotifyKey.parse(API_KEY).token(now=1_767_225_600.7)
        assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
        claims = jwt.decode(
            token, SECRET, algorithms=["HS256"], options={"verify_iat": False}
        )
        assert claims == {"iss": SERVICE_ID, "iat": 1_767_225_600}

    @pytest.mark.parametrize(
        "api_key", [SECRET, f"{SERVICE_ID}-{SECRET}", f"name-{SERVICE_ID}-not-a-uuid"]
    )
    def test_a_malformed_key_is_refused_without_being_quoted(self, api_key: str):
        with pytest.raises(ValidationError) as caught:
            ChannelsSettings(channels={"notify": {"api_key": api_key}})
        assert SECRET not in str(caught.value)
        assert "{key name}-{service id}-{secret key}" in str(caught.value)


class TestCompose:
    def test_headers_and_body(self):
        mail = compose(a_message(), sender="lantern@council.example", now=NOW)
        key = a_message().idempotency_key
        assert mail["Message-ID"] == f"<{key}@council.example>"
        assert mail["To"] == "sw.one@council.example"
        assert mail["Auto-Submitted"] == "auto-generated"
        text = mail.get_content()
        assert "missing from placement" in text
        assert "Acknowledge: https://lantern.example/ack/abc" in text

    def test_a_subject_cannot_inject_headers(self):
        message = a_message(subject="Missing\r\nBcc: everyone@example.org")
        mail = compose(message, sender="lantern@council.example", now=NOW)
        assert mail["Subject"] == "Missing Bcc: everyone@example.org"
        assert mail["Bcc"] is None

    @pytest.mark.parametrize(
        "address", [None, "", "a@b\r\nBcc: c@d", "a@b, c@d", "Eve <eve@x>"]
    )
    def test_an_unusable_address_is_refused(self, address: str | None):
        with pytest.raises(ValueError, match="unusable address"):
            compose(a_message(email=address), sender="l@c.example", now=NOW)


class TestSettings:
    def test_nothing_configured_builds_no_channels(self, monkeypatch):
        for name in ("EMAIL__HOST", "NOTIFY__API_KEY", "WEBHOOK__SECRET"):
            monkeypatch.delenv(f"LANTERN_CHANNELS__{name}", raising=False)
        assert build_channels(ChannelsSettings(), httpx.AsyncClient()) == {}

    def test_channels_come_from_nested_lantern_variables(self, monkeypatch):
        env = {
            "LANTERN_CHANNELS__EMAIL__HOST": "smtp.council.example",
            "LANTERN_CHANNELS__EMAIL__PORT": "2525",
            "LANTERN_CHANNELS__EMAIL__FROM_ADDRESS": "lantern@council.example",
            "LANTERN_CHANNELS__NOTIFY__API_KEY": API_KEY,
            "LANTERN_CHANNELS__NOTIFY__SMS_TEMPLATE_ID": str(uuid.uuid4()),
            "LANTERN_CHANNELS__WEBHOOK__SECRET": "w" * 40,
            "LANTERN_CHANNELS__WEBHOOK__KEY_ID": "2026-01",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = ChannelsSettings()
        assert settings.channels.email.port == 2525
        channels = build_channels(settings, httpx.AsyncClient())
        assert set(channels) == {"email", "sms", "webhook"}
        assert isinstance(channels["sms"], NotifySmsChannel)
        assert isinstance(channels["webhook"], WebhookChannel)
        assert all(channel.name == name for name, channel in channels.items())

    def test_email_through_notify_instead_of_smtp(self):
        settings = ChannelsSettings(
            channels={
                "email_provider": "notify",
                "notify": {"api_key": API_KEY, "email_template_id": uuid.uuid4()},
            }
        )
        channels = build_channels(settings, httpx.AsyncClient())
        assert isinstance(channels["email"], NotifyEmailChannel)
        assert "sms" not in channels

    @pytest.mark.parametrize(
        ("smtp", "reason"),
        [
            ({"host": "smtp.example"}, "from_address is required"),
            ({"host": "h", "from_address": "x@y", "username": "u"}, "go together"),
            ({"from_address": "not an address"}, "should match pattern"),
        ],
    )
    def test_smtp_settings_are_checked(self, smtp: dict, reason: str):
        with pytest.raises(ValidationError, match=reason):
            SmtpSettings(**smtp)

    def test_a_short_webhook_secret_is_refused_without_being_quoted(self):
        with pytest.raises(ValidationError) as caught:
            ChannelsSettings(channels={"webhook": {"secret": "hunter2"}})
        assert "hunter2" not in str(caught.value)
