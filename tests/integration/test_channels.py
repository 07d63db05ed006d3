"""Each channel against a real server on loopback: e-mail against an aiosmtpd SMTP
server, SMS and e-mail against the Notify stand-in (tests/notify_server.py), and
webhooks against a receiver that checks the signature as a partner would.

Every test runs under captured logs, and none of the message's personal data (the
child's name, the addresses, the body) may appear in them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import structlog.testing
from fastapi import FastAPI, Request, Response
from structlog.typing import EventDict

from services.notifier.channels import (
    Message,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from services.notifier.channels.email import SmtpEmailChannel, SmtpSettings
from services.notifier.channels.notify import (
    NotifyEmailChannel,
    NotifySettings,
    NotifySmsChannel,
)
from services.notifier.channels.notify_receipts import (
    DeliveryReceipt,
    DeliveryStatus,
    callback_authorised,
    parse_delivery_receipt,
)
from services.notifier.channels.webhook import (
    Resolve,
    WebhookChannel,
    WebhookSettings,
    system_resolve,
)
from services.notifier.destinations import Address
from services.outbound import outbound_client
from tests.channel_servers import (
    SMTP_PASSWORD,
    WEBHOOK_SECRET,
    Inbox,
    Receiver,
    serve_smtp,
)
from tests.e2e.processes import free_port
from tests.notify_server import (
    Fault,
    NotifyServer,
    daily_limit,
    rate_limited,
    serve_app,
    serve_notify,
)
from tests.waiting import eventually

SUBJECT = "Ada Fictitious (16) reported missing"
BODY = "Ada Fictitious was last seen at Fictional Road at 21:40. High risk."
EMAIL = "sw.one@council.example"
PHONE = "07700900123"
PERSONAL = ("Ada", "Fictitious", "Fictional Road", EMAIL, "sw.one", PHONE, "900123")

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
NOTIFY_SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
SMS_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
EMAIL_TEMPLATE = "a0b3c41e-52fc-4c2e-9b84-8d1e3e0f6a77"
OTHER_SECRET = "not-the-shared-secret-0123456789ab"
WRONG_PASSWORD = "wrong-password"
CALLBACK_TOKEN = "callback-token"


def a_message(**overrides: Any) -> Message:
    fields: dict[str, Any] = {
        "alert_id": uuid.uuid4(),
        "recipient_id": f"staff-{uuid.uuid4().hex[:6]}",
        "kind": "alert",
        "subject": SUBJECT,
        "body": BODY,
        "ack_url": "https://lantern.example/ack/tok123",
        "email": EMAIL,
        "phone": PHONE,
    } | overrides
    return Message(**fields)


@pytest.fixture(autouse=True)
def logs() -> Iterator[list[EventDict]]:
    with structlog.testing.capture_logs() as captured:
        yield captured
    text = repr(captured)
    leaked = [value for value in PERSONAL if value in text]
    assert not leaked, f"personal data in logs: {leaked}"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with outbound_client() as client:
        yield client


def logged(logs: list[EventDict], event: str) -> EventDict:
    [entry] = [e for e in logs if e["event"] == event]
    return entry


# --- e-mail over SMTP -----------------------------------------------------------


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    with serve_smtp(handler) as port:
        yield handler, port


def smtp_channel(port: int, **settings: Any) -> SmtpEmailChannel:
    values = {
        "host": "127.0.0.1", "port": port, "starttls": False, "timeout_s": 5,
        "from_address": "lantern@council.example",
    } | settings  # fmt: skip
    return SmtpEmailChannel(SmtpSettings(**values))


class TestSmtpEmail:
    async def test_the_message_arrives_for_the_recipient(self, inbox, logs):
        handler, port = inbox
        message = a_message()
        receipt = await smtp_channel(port).send(message)
        [mail] = handler.received
        assert handler.recipients == [[EMAIL]]
        assert mail["To"] == EMAIL
        assert mail["From"] == "lantern@council.example"
        assert mail["Subject"] == SUBJECT
        assert "Acknowledge: https://lantern.example/ack/tok123" in mail.get_content()
        assert receipt.channel == "email"
        assert logged(logs, "channel_sent")["alert_id"] == str(message.alert_id)

    async def test_the_message_id_is_derived_from_the_idempotency_key(self, inbox):
        handler, port = inbox
        message = a_message()
        channel = smtp_channel(port)
        receipt = await channel.send(message)
        await channel.send(message)  # a resend after a crash before recording
        expected = f"<{message.idempotency_key}@council.example>"
        assert [m["Message-ID"] for m in handler.received] == [expected, expected]
        assert receipt.provider_id == expected

    @pytest.mark.parametrize(
        ("reply", "error", "code"),
        [
            ("450 4.2.1 <{address}>: mailbox busy", TemporaryDeliveryError, "smtp_450"),
            ("550 5.1.1 <{address}>: no such user", PermanentDeliveryError, "smtp_550"),
        ],
    )
    async def test_a_refused_recipient(self, inbox, logs, reply, error, code):
        handler, port = inbox
        handler.refuse_with = reply
        with pytest.raises(error) as caught:
            await smtp_channel(port).send(a_message())
        assert caught.value.code == code
        assert EMAIL not in str(caught.value)
        assert handler.received == []
        assert logged(logs, "channel_send_failed")["error_type"] == code

    async def test_the_login_is_used_and_a_wrong_password_is_permanent(self, inbox):
        handler, port = inbox
        good = smtp_channel(port, username="lantern", password=SMTP_PASSWORD)
        await good.send(a_message())
        bad = smtp_channel(port, username="lantern", password=WRONG_PASSWORD)
        with pytest.raises(PermanentDeliveryError) as caught:
            await bad.send(a_message())
        assert caught.value.code == "smtp_535"
        assert set(handler.logins) == {b"lantern"}  # each mechanism is tried
        assert len(handler.received) == 1

    async def test_required_starttls_the_server_lacks_sends_nothing(self, inbox):
        handler, port = inbox
        with pytest.raises(PermanentDeliveryError) as caught:
            await smtp_channel(port, starttls=True).send(a_message())
        assert caught.value.code == "smtp_not_supported"
        assert handler.received == []

    async def test_a_refused_connection_is_temporary(self):
        with pytest.raises(TemporaryDeliveryError):
            await smtp_channel(free_port()).send(a_message())

    async def test_a_server_that_never_answers_times_out_temporarily(self):
        async def silent(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
            await reader.read()  # until the client gives up and closes

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            with pytest.raises(TemporaryDeliveryError) as caught:
                await smtp_channel(port, timeout_s=0.3).send(a_message())
        assert caught.value.code == "timeout"

    async def test_no_address_is_permanent(self, inbox):
        _, port = inbox
        with pytest.raises(PermanentDeliveryError) as caught:
            await smtp_channel(port).send(a_message(email=None))
        assert caught.value.code == "invalid_address"


# --- GOV.UK Notify ----------------------------------------------------------------


@pytest.fixture
async def notify() -> AsyncIterator[NotifyServer]:
    templates = {SMS_TEMPLATE, EMAIL_TEMPLATE}
    async with serve_notify(SERVICE_ID, NOTIFY_SECRET, templates=templates) as server:
        yield server


def notify_settings(server: NotifyServer, **overrides: Any) -> NotifySettings:
    values = {
        "base_url": server.base_url,
        "api_key": f"lantern_test-{SERVICE_ID}-{NOTIFY_SECRET}",
        "sms_template_id": SMS_TEMPLATE,
        "email_template_id": EMAIL_TEMPLATE,
        "timeout_s": 5,
    } | overrides
    return NotifySettings(**values)


def sms(server: NotifyServer, client: httpx.AsyncClient, **kw: Any) -> NotifySmsChannel:
    return NotifySmsChannel(notify_settings(server, **kw), client)


class TestNotify:
    async def test_a_text_message_is_accepted(self, notify, client, logs):
        message = a_message()
        receipt = await sms(notify, client).send(message)
        [sent] = notify.state.received
        assert notify.state.refused_tokens == []
        assert sent.iss == SERVICE_ID  # the JWT was verified by the server
        assert receipt.provider_id == sent.id
        assert receipt.channel == "sms"
        assert sent.kind == "sms"
        assert sent.body["phone_number"] == PHONE
        assert sent.body["template_id"] == SMS_TEMPLATE
        assert sent.body["personalisation"] == {
            "subject": SUBJECT, "body": BODY, "kind": "alert",
            "ack_url": "https://lantern.example/ack/tok123",
        }  # fmt: skip
        assert logged(logs, "channel_sent")["provider_id"] == sent.id

    async def test_a_sent_message_is_found_by_its_reference(self, notify, client):
        """A sender that died before recording the send asks first, since Notify
        itself would send the same message twice."""
        channel = sms(notify, client)
        message = a_message()
        assert await channel.find(message) is None
        receipt = await channel.send(message)
        found = await channel.find(message)
        assert found is not None and found.provider_id == receipt.provider_id
        assert await channel.find(a_message()) is None  # another message
        assert len(notify.state.received) == 1

    async def test_an_email_is_accepted(self, notify, client):
        message = a_message(ack_url=None)
        channel = NotifyEmailChannel(notify_settings(notify), client)
        receipt = await channel.send(message)
        [sent] = notify.state.received
        assert (sent.kind, sent.body["email_address"]) == ("email", EMAIL)
        assert sent.body["template_id"] == EMAIL_TEMPLATE
        assert sent.body["personalisation"]["ack_url"] == ""
        assert receipt.provider_id == sent.id

    async def test_the_reference_is_the_idempotency_key_and_holds_no_personal_data(
        self, notify, client
    ):
        message = a_message()
        await sms(notify, client).send(message)
        reference = notify.state.received[0].body["reference"]
        assert reference == message.idempotency_key
        assert str(uuid.UUID(reference)) == reference  # an opaque hash, nothing more
        for value in (*PERSONAL, message.recipient_id, str(message.alert_id)):
            assert value not in reference

    async def test_a_key_for_another_secret_is_refused_by_the_server(
        self, notify, client
    ):
        wrong = f"lantern_test-{SERVICE_ID}-{uuid.uuid4()}"
        with pytest.raises(PermanentDeliveryError) as caught:
            await sms(notify, client, api_key=wrong).send(a_message())
        assert (caught.value.status, caught.value.code) == (403, "AuthError")
        assert notify.state.refused_tokens == [
            "Invalid token: signature, api token not found"
        ]
        assert notify.state.received == []

    async def test_rate_limited_is_temporary_with_retry_after(self, notify, client):
        notify.state.fail_next(rate_limited(retry_after="30"))
        with pytest.raises(TemporaryDeliveryError) as caught:
            await sms(notify, client).send(a_message())
        assert (caught.value.status, caught.value.code) == (429, "RateLimitError")
        assert caught.value.retry_after == 30

    async def test_the_daily_limit_is_temporary_until_midnight_utc(
        self, notify, client
    ):
        notify.state.fail_next(daily_limit())
        with pytest.raises(TemporaryDeliveryError) as caught:
            await sms(notify, client).send(a_message())
        assert caught.value.code == "TooManyRequestsError"
        now = datetime.now(UTC)
        seconds_left = 86_400 - (now.hour * 3600 + now.minute * 60 + now.second)
        assert caught.value.retry_after == pytest.approx(seconds_left, abs=5)

    async def test_an_invalid_phone_number_is_permanent(self, notify, client, logs):
        message = a_message(phone="0123 not a mobile")
        with pytest.raises(PermanentDeliveryError) as caught:
            await sms(notify, client).send(message)
        assert (caught.value.status, caught.value.code) == (400, "ValidationError")
        assert "mobile" not in str(caught.value)  # Notify's message stays out
        assert logged(logs, "channel_send_failed")["error_type"] == "ValidationError"

    async def test_a_validation_error_from_the_switch_is_permanent(
        self, notify, client
    ):
        fault = Fault(400, "BadRequestError", "Can't send to this recipient")
        notify.state.fail_next(fault)
        with pytest.raises(PermanentDeliveryError) as caught:
            await sms(notify, client).send(a_message())
        assert caught.value.code == "BadRequestError"

    async def test_a_server_error_is_temporary(self, notify, client):
        notify.state.fail_next(Fault(500, "Exception", "Internal server error"))
        with pytest.raises(TemporaryDeliveryError) as caught:
            await sms(notify, client).send(a_message())
        assert (caught.value.status, caught.value.code) == (500, "Exception")
        assert caught.value.retry_after is None

    async def test_the_resend_after_a_temporary_failure_goes_through(
        self, notify, client
    ):
        notify.state.fail_next(Fault(500, "Exception", "Internal server error"))
        channel, message = sms(notify, client), a_message()
        with pytest.raises(TemporaryDeliveryError):
            await channel.send(message)
        receipt = await channel.send(message)
        assert [r.id for r in notify.state.received] == [receipt.provider_id]

    async def test_no_server_is_temporary(self, client):
        settings = NotifySettings(
            base_url=f"http://127.0.0.1:{free_port()}",
            api_key=f"k-{SERVICE_ID}-{NOTIFY_SECRET}",
            sms_template_id=SMS_TEMPLATE,
        )
        with pytest.raises(TemporaryDeliveryError) as caught:
            await NotifySmsChannel(settings, client).send(a_message())
        assert caught.value.code == "ConnectError"

    async def test_no_phone_number_is_permanent_without_a_request(self, notify, client):
        with pytest.raises(PermanentDeliveryError) as caught:
            await sms(notify, client).send(a_message(phone=None))
        assert caught.value.code == "no_address"
        assert notify.state.received == []


@dataclass
class CallbackSink:
    token: str
    receipts: list[DeliveryReceipt] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/notify/receipts")
        async def receive(request: Request) -> Response:
            if not callback_authorised(
                self.token, request.headers.get("authorization")
            ):
                return Response(status_code=401)
            self.receipts.append(parse_delivery_receipt(await request.body()))
            return Response(status_code=204)

        return app


class TestDeliveryReceipts:
    @pytest.mark.parametrize(
        "status", ["delivered", "permanent-failure", "temporary-failure"]
    )
    async def test_a_receipt_names_the_message_we_sent(self, notify, client, status):
        message = a_message()
        receipt = await sms(notify, client).send(message)
        sink = CallbackSink(CALLBACK_TOKEN)
        async with serve_app(sink.app()) as root:
            url = f"{root}/notify/receipts"
            assert receipt.provider_id is not None
            answer = await notify.send_receipt(
                receipt.provider_id, status, url=url, token=CALLBACK_TOKEN
            )
            assert answer.status_code == 204
            refused = await notify.send_receipt(
                receipt.provider_id, status, url=url, token=CALLBACK_TOKEN[::-1]
            )
            assert refused.status_code == 401
        [delivery] = sink.receipts
        assert str(delivery.id) == receipt.provider_id
        assert delivery.reference == message.idempotency_key
        assert delivery.status == DeliveryStatus(status)
        assert PHONE not in delivery.model_dump_json()


# --- webhooks -------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver()
    async with serve_app(receiver.app()) as root:
        try:
            yield receiver, root
        finally:
            receiver.release.set()


def webhook(
    client: httpx.AsyncClient, resolve: Resolve = system_resolve, **settings: Any
) -> WebhookChannel:
    """The receiver is on loopback: the tests' allow-list has it, as the demo's."""
    values = {
        "secret": WEBHOOK_SECRET, "key_id": "2026-01", "timeout_s": 5,
        "allowed_hosts": "127.0.0.1",
    } | settings  # fmt: skip
    return WebhookChannel(WebhookSettings(**values), client, resolve=resolve)


def resolving(*addresses: str) -> Resolve:
    """A resolver that answers every name with these addresses, as a partner's DNS
    (or an attacker's) might: tests have no DNS of their own."""

    async def resolve(host: str, port: int) -> list[Address]:
        return [ipaddress.ip_address(a) for a in addresses]

    return resolve


PARTNER = "hooks.partner.example"


class TestWebhook:
    async def test_a_signed_post_is_accepted(self, receiver, client, logs):
        sink, root = receiver
        message = a_message(webhook_url=f"{root}/hooks/cms", kind="update")
        receipt = await webhook(client).send(message)
        [(valid, headers, body)] = sink.received
        assert valid
        assert headers["lantern-key-id"] == "2026-01"
        assert headers["idempotency-key"] == message.idempotency_key
        assert headers["content-type"] == "application/json"
        document = json.loads(body)
        assert document.pop("sent_at").endswith("+00:00")
        assert document == {
            "alert_id": str(message.alert_id), "kind": "update", "subject": SUBJECT,
            "body": BODY, "ack_url": "https://lantern.example/ack/tok123",
        }  # fmt: skip
        assert (receipt.channel, receipt.provider_id) == ("webhook", None)
        assert logged(logs, "channel_sent")["channel"] == "webhook"

    async def test_a_resend_carries_the_same_idempotency_key(self, receiver, client):
        sink, root = receiver
        message = a_message(webhook_url=f"{root}/hooks/cms")
        await webhook(client).send(message)
        await webhook(client).send(message)
        keys = {headers["idempotency-key"] for _, headers, _ in sink.received}
        assert keys == {message.idempotency_key}

    async def test_another_secret_does_not_verify(self, receiver, client):
        sink, root = receiver
        other = webhook(client, secret=OTHER_SECRET)
        await other.send(a_message(webhook_url=f"{root}/hooks/cms"))
        assert [valid for valid, _, _ in sink.received] == [False]

    @pytest.mark.parametrize(
        ("status", "error"),
        [
            (500, TemporaryDeliveryError),
            (503, TemporaryDeliveryError),
            (410, PermanentDeliveryError),
            (400, PermanentDeliveryError),
        ],
    )
    async def test_the_answer_decides_retry(self, receiver, client, status, error):
        sink, root = receiver
        sink.status = status
        with pytest.raises(error) as caught:
            await webhook(client).send(a_message(webhook_url=f"{root}/hooks/cms"))
        assert (caught.value.status, caught.value.code) == (status, f"http_{status}")

    async def test_429_is_temporary_with_retry_after(self, receiver, client):
        sink, root = receiver
        sink.status, sink.headers = 429, {"Retry-After": "12"}
        with pytest.raises(TemporaryDeliveryError) as caught:
            await webhook(client).send(a_message(webhook_url=f"{root}/hooks/cms"))
        assert caught.value.retry_after == 12

    async def test_a_slow_receiver_times_out_temporarily(self, receiver, client):
        sink, root = receiver
        sink.hang = True
        channel = webhook(client, timeout_s=0.3)
        with pytest.raises(TemporaryDeliveryError) as caught:
            await channel.send(a_message(webhook_url=f"{root}/hooks/cms"))
        assert caught.value.code == "timeout"
        await eventually(lambda: len(sink.received) == 1, what="request arrived")

    async def test_a_redirect_is_not_followed(self, receiver, client):
        sink, root = receiver
        with pytest.raises(PermanentDeliveryError) as caught:
            await webhook(client).send(a_message(webhook_url=f"{root}/moved"))
        assert caught.value.code == "http_307"
        assert sink.received == []

    async def test_no_receiver_is_temporary(self, client):
        url = f"http://127.0.0.1:{free_port()}/hooks/cms"
        with pytest.raises(TemporaryDeliveryError) as caught:
            await webhook(client).send(a_message(webhook_url=url))
        assert caught.value.code == "ConnectError"

    @pytest.mark.parametrize("url", [None, "", "ftp://x/y", "not a url", "http://"])
    async def test_an_unusable_url_is_permanent(self, client, url):
        with pytest.raises(PermanentDeliveryError) as caught:
            await webhook(client).send(a_message(webhook_url=url))
        assert caught.value.code == "invalid_url"

    @pytest.mark.parametrize(
        "url",
        [
            "http://169.254.169.254/latest/meta-data",
            "https://10.0.0.8/lantern",
            "https://cms:secret@hooks.partner.example/x",
            "http://hooks.partner.example/lantern",
        ],
    )
    async def test_a_url_recorded_before_the_rule_is_refused_at_sending(
        self, client, url
    ):
        """The directory may hold entries from before the rule: the same rule again."""
        with pytest.raises(PermanentDeliveryError) as caught:
            await webhook(client, resolving("93.184.216.34")).send(
                a_message(webhook_url=url)
            )
        assert caught.value.code == "invalid_url"

    async def test_the_loopback_receiver_needs_the_allow_list(self, receiver, client):
        sink, root = receiver
        channel = webhook(client, allowed_hosts="")
        with pytest.raises(PermanentDeliveryError) as caught:
            await channel.send(a_message(webhook_url=f"{root}/hooks/cms"))
        assert caught.value.code == "invalid_url"
        assert sink.received == []

    @pytest.mark.parametrize(
        "addresses",
        [("127.0.0.1",), ("169.254.169.254",), ("93.184.216.34", "10.0.0.8")],
    )
    async def test_a_name_that_resolves_to_a_private_address_is_refused(
        self, receiver, client, addresses
    ):
        """Checked after the name is resolved, before connecting: any one private
        address refuses the URL, whichever the connection would have used."""
        sink, root = receiver
        port = httpx.URL(root).port
        channel = webhook(client, resolving(*addresses))
        with pytest.raises(PermanentDeliveryError) as caught:
            await channel.send(
                a_message(webhook_url=f"https://{PARTNER}:{port}/hooks/cms")
            )
        assert caught.value.code == "address_not_allowed"
        assert sink.received == []

    async def test_the_connection_goes_to_the_address_checked(self, receiver, client):
        """Not to whatever a second lookup answers: the URL's name is only in the
        Host header (and TLS's server name)."""
        sink, root = receiver
        port = httpx.URL(root).port
        channel = webhook(client, resolving("127.0.0.1"), allowed_hosts=PARTNER)
        await channel.send(a_message(webhook_url=f"http://{PARTNER}:{port}/hooks/cms"))
        [(valid, headers, _)] = sink.received
        assert valid and headers["host"] == f"{PARTNER}:{port}"

    async def test_a_refused_address_is_followed_by_the_next(self, receiver, client):
        sink, root = receiver
        port = httpx.URL(root).port
        nothing_there = "127.0.0.2"  # the receiver listens on 127.0.0.1 only
        channel = webhook(
            client, resolving(nothing_there, "127.0.0.1"), allowed_hosts=PARTNER
        )
        await channel.send(a_message(webhook_url=f"http://{PARTNER}:{port}/hooks/cms"))
        assert len(sink.received) == 1

    async def test_a_name_that_does_not_resolve_is_temporary(self, client):
        with pytest.raises(TemporaryDeliveryError) as caught:
            await webhook(client).send(
                a_message(webhook_url="https://hooks.partner.invalid/x")
            )
        assert caught.value.code == "name_not_resolved"
