"""The HTTP machinery the three source adapters share: settings, retries with jittered
backoff, a circuit breaker, and strict validation of whatever comes back.

Everything that is not a well-formed answer becomes SourceUnavailableError, and is
logged with ids, status codes and error types only: a source's garbage may echo the
child's name, so neither bodies nor validation messages ever reach a log line.
"""

from __future__ import annotations

import asyncio
import random
import time
from abc import abstractmethod
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, Generic, Self, TypeVar

import httpx
import structlog
from opentelemetry.trace import SpanKind
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    model_validator,
)

from events import tracing
from services.triage.sources import (
    ChildRef,
    NotKnown,
    SourceFacts,
    SourceName,
    SourceUnavailableError,
    metrics,
)

log = structlog.get_logger()

MAX_BACKOFF_S = 2.0


class SourceSettings(BaseModel):
    """One source's connection; no base_url means the council has not configured it."""

    model_config = ConfigDict(frozen=True)

    base_url: HttpUrl | None = None
    token: SecretStr | None = None
    timeout_s: float = Field(1.0, gt=0, le=60, description="Per attempt, whole call")
    retries: int = Field(2, ge=0, le=10, description="Attempts after the first")
    backoff_s: float = Field(0.05, ge=0, le=10, description="Base of full jitter")
    breaker_failures: int = Field(5, ge=1, description="Consecutive failed attempts")
    breaker_reset_s: float = Field(30, gt=0, description="Open this long, then probe")

    @property
    def configured(self) -> bool:
        return self.base_url is not None


class BreakerState(StrEnum):
    closed = "closed"
    open = "open"
    half_open = "half_open"


class CircuitBreaker:
    """Closed -> open after N consecutive failures -> half-open once the reset time
    has passed -> closed on a success, open again on a failure.

    Half-open lets one probe through per reset period: allowing it re-arms the open
    timer, so a probe that never reports back (cancelled) cannot wedge the breaker.
    """

    def __init__(
        self,
        *,
        failures: int,
        reset_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = failures
        self._reset_s = reset_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.closed
        if self._clock() - self._opened_at >= self._reset_s:
            return BreakerState.half_open
        return BreakerState.open

    def allow(self) -> bool:
        state = self.state
        if state is BreakerState.half_open:
            self._opened_at = self._clock()
        return state is not BreakerState.open

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None

    def record_failure(self) -> None:
        self._failures += 1
        if self._opened_at is not None or self._failures >= self._threshold:
            self._opened_at = self._clock()


class LookupRequest(BaseModel):
    """The body Lantern POSTs to `{base_url}/v1/lookup`."""

    la_child_id: str | None
    given_name: str
    family_name: str
    date_of_birth: date

    @classmethod
    def of(cls, child: ChildRef) -> Self:
        return cls(
            la_child_id=child.la_child_id,
            given_name=child.given_name,
            family_name=child.family_name,
            date_of_birth=child.date_of_birth,
        )


class FactsBody(BaseModel):
    """A source's facts as they travel: strict types, unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    @abstractmethod
    def to_facts(self) -> SourceFacts: ...


F = TypeVar("F", bound=FactsBody)


class LookupAnswer(BaseModel, Generic[F]):
    """`{"found": false}` or `{"found": true, "facts": {...}}`."""

    model_config = ConfigDict(strict=True, extra="ignore")

    found: bool
    facts: F | None = None

    @model_validator(mode="after")
    def _facts_when_found(self) -> Self:
        if self.found and self.facts is None:
            raise ValueError("facts are required when found is true")
        return self


def answer_model(facts: type[FactsBody]) -> type[LookupAnswer[Any]]:
    """`LookupAnswer[facts]`, chosen at run time (mypy only takes literal types)."""
    return LookupAnswer[facts]  # type: ignore[valid-type]


class _Failure(Exception):
    """One attempt that gave no usable answer; never carries body content."""

    def __init__(
        self, kind: str, *, retryable: bool, status: int | None = None, error: str = ""
    ) -> None:
        super().__init__(kind)
        self.kind = kind
        self.retryable = retryable
        self.status = status
        self.error = error


class HttpSource:
    """`POST {base_url}/v1/lookup` with retries and a breaker; subclasses name the
    source and its facts model, nothing else."""

    name: SourceName
    facts_model: ClassVar[type[FactsBody]]

    def __init__(
        self,
        settings: SourceSettings,
        client: httpx.AsyncClient,
        *,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        if settings.base_url is None:
            raise ValueError(f"{self.name}: no base_url, the source is not configured")
        self._settings = settings
        self._client = client
        self._url = str(settings.base_url).rstrip("/") + "/v1/lookup"
        self._headers = {"Accept": "application/json"}
        if settings.token is not None:
            token = settings.token.get_secret_value()
            self._headers["Authorization"] = f"Bearer {token}"
        self._answer = answer_model(self.facts_model)
        self.breaker = breaker or CircuitBreaker(
            failures=settings.breaker_failures, reset_s=settings.breaker_reset_s
        )

    async def lookup(self, child: ChildRef) -> SourceFacts | NotKnown:
        """In a client span of the report's trace, if any: the source's name only."""
        attributes = {"lantern.source": str(self.name)}
        with tracing.following(
            tracing.current(), f"lookup {self.name}", SpanKind.CLIENT, attributes
        ):
            return await self._lookup(child)

    async def _lookup(self, child: ChildRef) -> SourceFacts | NotKnown:
        body = LookupRequest.of(child).model_dump(mode="json")
        failure = _Failure("no_attempt", retryable=False)
        for attempt in range(1, self._settings.retries + 2):
            if attempt > 1:
                await asyncio.sleep(self._backoff(attempt - 1))
            if not self.breaker.allow():
                if attempt == 1:  # later on, the last real failure says more
                    failure = _Failure("circuit_open", retryable=False)
                    self._log_failure(failure, attempt)
                break
            try:
                answer = await self._attempt(body)
            except _Failure as caught:
                failure = caught
                self.breaker.record_failure()
                self._log_failure(failure, attempt)
                if failure.retryable:
                    continue
                break
            self.breaker.record_success()
            facts: FactsBody | None = answer.facts
            return (
                facts.to_facts() if answer.found and facts is not None else NotKnown()
            )
        raise SourceUnavailableError(f"{self.name}: {failure.kind}")

    async def _attempt(self, body: dict[str, Any]) -> LookupAnswer[Any]:
        timeout = self._settings.timeout_s
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                response = await self._client.post(
                    self._url, json=body, headers=self._headers, timeout=timeout
                )
        except (httpx.HTTPError, TimeoutError, OSError) as exc:
            timed_out = isinstance(exc, TimeoutError | httpx.TimeoutException)
            outcome = "timeout" if timed_out else "error"
            metrics.called(self.name, outcome, time.perf_counter() - started)
            raise _Failure(type(exc).__name__, retryable=True) from None
        status = response.status_code
        seconds = time.perf_counter() - started
        if status != 200:
            metrics.called(self.name, "error", seconds)
            retryable = status == 429 or status >= 500
            raise _Failure("http_status", retryable=retryable, status=status)
        try:
            answer = self._answer.model_validate_json(response.content)
        except ValidationError as exc:
            metrics.called(self.name, "error", seconds)
            raise _invalid(exc, status) from None
        metrics.called(self.name, "ok", seconds)
        return answer

    def _backoff(self, retry: int) -> float:
        ceiling = min(MAX_BACKOFF_S, self._settings.backoff_s * 2 ** (retry - 1))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not security

    def _log_failure(self, failure: _Failure, attempt: int) -> None:
        log.warning(
            "source_lookup_failed",
            source=str(self.name),
            attempt=attempt,
            status=failure.status,
            error_type=failure.kind,
            error=failure.error or None,
            breaker=str(self.breaker.state),
        )


def field_errors(exc: ValidationError, *, limit: int = 5) -> str:
    """`facts.open_case:bool_type; ...`: where and what, never the input, because
    pydantic's own message quotes the values (a name, a date of birth)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '<body>'}:{e['type']}"
        for e in exc.errors(include_url=False, include_input=False)[:limit]
    )


def _invalid(exc: ValidationError, status: int) -> _Failure:
    if exc.errors(include_input=False)[0]["type"] == "json_invalid":
        return _Failure("invalid_json", retryable=False, status=status)
    return _Failure(
        "wrong_schema", retryable=False, status=status, error=field_errors(exc)
    )
