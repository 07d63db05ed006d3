"""Text messages and e-mail through GOV.UK Notify's REST API v2 (DOMAIN.md section 7).

httpx and PyJWT rather than the official `notifications-python-client`: that client
is synchronous (requests) and not thread-safe, so it would need a thread per send
that asyncio cannot cancel at a deadline; it logs the error message Notify returns
through the standard library, outside the allow-listed structlog; and it turns
connection failures into a pretend 503 and drops Retry-After. The protocol is one
POST with a JWT, which is less code than the workarounds.

The `reference` sent is the idempotency key, an opaque hash of ids: Notify requires
that it holds no personal data (DOMAIN.md 9.20).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Self
from uuid import UUID

import httpx
import jwt
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    field_validator,
)

from services.notifier.channels import (
    DeliveryError,
    Message,
    PermanentDeliveryError,
    Receipt,
    TemporaryDeliveryError,
)
from services.notifier.channels.http import post, retry_after
from services.notifier.channels.outcome import failed, sent

DEFAULT_BASE_URL = "https://api.notifications.service.gov.uk"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_KEY = re.compile(rf"^.+-(?P<service_id>{_UUID})-(?P<secret>{_UUID})$")
_ERROR_TYPE = re.compile(r"^[A-Za-z]{1,64}$")


@dataclass(frozen=True)
class NotifyKey:
    """An API key is `{key name}-{service id}-{secret}`; the two ids are UUIDs."""

    service_id: str
    secret: str = field(repr=False)

    @classmethod
    def parse(cls, api_key: str) -> Self:
        found = _KEY.match(api_key.strip())
        if found is None:  # never quote the key
            raise ValueError("expected {key name}-{service id}-{secret key}")
        return cls(found["service_id"], found["secret"])

    def token(self, *, now: float) -> str:
        """The bearer JWT: HS256, iss = service id, iat = now; Notify refuses one
        more than 30 s off its clock, so a token is made per request."""
        claims = {"iss": self.service_id, "iat": int(now)}
        return jwt.encode(claims, self.secret, algorithm="HS256")


class NotifySettings(BaseModel):
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    base_url: HttpUrl = HttpUrl(DEFAULT_BASE_URL)
    api_key: SecretStr | None = None
    sms_template_id: UUID | None = None
    email_template_id: UUID | None = None
    timeout_s: float = Field(10.0, gt=0, le=60, description="Whole request")
    callback_token: SecretStr | None = Field(
        None, description="Bearer token Notify sends with delivery receipts"
    )

    @field_validator("api_key")
    @classmethod
    def _key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            NotifyKey.parse(value.get_secret_value())
        return value

    @property
    def sms_configured(self) -> bool:
        return self.api_key is not None and self.sms_template_id is not None

    @property
    def email_configured(self) -> bool:
        return self.api_key is not None and self.email_template_id is not None


class _Created(BaseModel):
    id: UUID


class _ErrorItem(BaseModel):
    error: str


class _ErrorBody(BaseModel):
    errors: list[_ErrorItem] = Field(min_length=1)


def error_type(content: bytes) -> str | None:
    """Notify's error type (`ValidationError`, `RateLimitError`, ...), never its
    message, which may quote the phone number or address it refused."""
    try:
        kind = _ErrorBody.model_validate_json(content).errors[0].error
    except ValidationError:
        return None
    return kind if _ERROR_TYPE.match(kind) else None


def notify_error(
    channel: str, status: int, content: bytes, header: str | None, *, now: datetime
) -> DeliveryError:
    code = error_type(content) or f"http_{status}"
    if status == 429:
        wait = retry_after(header, now=now)
        if wait is None and code == "TooManyRequestsError":
            wait = _until_midnight_utc(now)  # the daily limit resets then
        return TemporaryDeliveryError(channel, code, status=status, retry_after=wait)
    if status == 408 or status >= 500:
        return TemporaryDeliveryError(channel, code, status=status)
    return PermanentDeliveryError(channel, code, status=status)


def _until_midnight_utc(now: datetime) -> float:
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time())
    return (midnight.replace(tzinfo=UTC) - now).total_seconds()


def _created_id(response: httpx.Response) -> str | None:
    """None for a 2xx without a readable id: it was accepted all the same, and
    sending again would send twice."""
    try:
        return str(_Created.model_validate_json(response.content).id)
    except ValidationError:
        return None


class _Listed(BaseModel):
    class Notification(BaseModel):
        id: UUID
        reference: str | None = None

    notifications: list[Notification]


class _NotifyChannel:
    """One POST per message to `/v2/notifications/{kind}`."""

    name: str
    kind: ClassVar[str]  # the path segment
    address_field: ClassVar[str]  # in Notify's request
    template_setting: ClassVar[str]  # in NotifySettings
    message_field: ClassVar[str]  # in Message

    def __init__(
        self,
        settings: NotifySettings,
        client: httpx.AsyncClient,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        template: UUID | None = getattr(settings, self.template_setting)
        if settings.api_key is None or template is None:
            raise ValueError(f"notify {self.name}: no api_key or template id")
        self._key = NotifyKey.parse(settings.api_key.get_secret_value())
        self._template_id = str(template)
        self._client = client
        self._timeout = settings.timeout_s
        self._url = f"{str(settings.base_url).rstrip('/')}/v2/notifications/{self.kind}"
        self._clock = clock

    def payload(self, message: Message, address: str) -> dict[str, Any]:
        return {
            self.address_field: address,
            "template_id": self._template_id,
            "personalisation": {
                "subject": message.subject,
                "body": message.body,
                "ack_url": message.ack_url or "",
                "kind": message.kind,
            },
            "reference": message.idempotency_key,
        }

    async def send(self, message: Message) -> Receipt:
        address: str | None = getattr(message, self.message_field)
        if not address:
            raise failed(PermanentDeliveryError(self.name, "no_address"), message)
        now = self._clock()
        headers = {
            "Authorization": f"Bearer {self._key.token(now=now.timestamp())}",
            "Content-Type": "application/json",
        }
        content = json.dumps(self.payload(message, address)).encode()
        try:
            response = await post(
                self._client, self._url, channel=self.name, content=content,
                headers=headers, timeout_s=self._timeout,
            )  # fmt: skip
        except DeliveryError as error:
            raise failed(error, message) from None
        if not response.is_success:
            raise failed(self._error(response, now), message)
        return sent(self.name, message, provider_id=_created_id(response), at=now)

    async def find(self, message: Message) -> Receipt | None:
        """The message, if a sender that died before recording it had sent it: Notify
        keeps the `reference` and can be searched by it, and does not itself drop a
        repeat. None when Notify has no such message or cannot say: then send."""
        now = self._clock()
        headers = {"Authorization": f"Bearer {self._key.token(now=now.timestamp())}"}
        query = {"reference": message.idempotency_key, "template_type": self.kind}
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.get(
                    self._url.rsplit("/", 1)[0], params=query, headers=headers,
                    timeout=self._timeout, follow_redirects=False,
                )  # fmt: skip
            listed = _Listed.model_validate_json(response.content)
        except (httpx.HTTPError, OSError, TimeoutError, ValidationError):
            return None
        if not response.is_success:
            return None
        for notification in listed.notifications:
            if notification.reference == message.idempotency_key:
                return sent(
                    self.name, message, provider_id=str(notification.id), at=now
                )
        return None

    def _error(self, response: httpx.Response, now: datetime) -> DeliveryError:
        return notify_error(
            self.name,
            response.status_code,
            response.content,
            response.headers.get("Retry-After"),
            now=now,
        )


class NotifySmsChannel(_NotifyChannel):
    name = "sms"
    kind = "sms"
    address_field = "phone_number"
    template_setting = "sms_template_id"
    message_field = "phone"


class NotifyEmailChannel(_NotifyChannel):
    name = "email"
    kind = "email"
    address_field = "email_address"
    template_setting = "email_template_id"
    message_field = "email"
