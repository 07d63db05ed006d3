"""Sends what the deliveries read model says is due, and records what happened.

Each attempt is recorded before the channel is called (`AlertSendAttempted`, which
also leases the delivery) and its outcome after (`AlertSent` / `AlertDeliveryFailed`).
A notifier that dies in between leaves the delivery leased; when the lease runs out,
it is sent again under the same idempotency key, which the channel uses to drop the
duplicate (Notify `reference`, webhook `Idempotency-Key`, e-mail `Message-ID`).
Two dispatchers never send the same attempt: the claim appends at the alert stream's
version, and the loser's append fails. A new alert's first message comes claimed by
the handler that raised it, in the same commit; the store hands that commit to the
dispatcher of the same process (``SqlEventStore.written``), which sends it at once.
Should that process die first, the lease runs out and any dispatcher sends it.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import bindparam, select

from events.contracts.alerts import (
    AlertContact,
    AlertDeliveryFailed,
    AlertFailureReported,
    AlertRaised,
    AlertSendAttempted,
    AlertSent,
    ChannelName,
    DeliveryKind,
)
from events.envelope import Envelope, NewEvent
from events.ids import derive_id
from events.registry import Event
from events.store import Append, Commit, ConcurrencyError
from events.subscriptions import RetryPolicy, wait_any
from services.notifier.channels import (
    Channel,
    DeliveryError,
    Message,
    PermanentDeliveryError,
    Recoverable,
    TemporaryDeliveryError,
)
from services.notifier.handlers import NAME, Notifier, alert_contact, alert_stream
from services.notifier.links import AckLinks
from services.notifier.messages import EpisodeFacts, words
from services.notifier.projector import QUEUEING
from services.notifier.routing import Scope, channels_for
from services.notifier.tables import alerts, deliveries

log = structlog.get_logger()
DUE = (
    select(
        deliveries, alerts.c.version, alerts.c.role, alerts.c.scope, alerts.c.episode_id
    )
    .join(alerts, alerts.c.alert_id == deliveries.c.alert_id)
    .where(
        deliveries.c.status.in_(("pending", "attempting")),
        deliveries.c.due_at <= bindparam("now"),
    )
    .order_by(deliveries.c.due_at)
    .limit(bindparam("limit"))
)
"""Deliveries due, earliest first: read every round, so built once."""
RAISED = frozenset({AlertRaised.type_name, AlertSendAttempted.type_name})


@dataclass(frozen=True)
class Delivery:
    """One due message, as the read models have it."""

    delivery_id: str
    alert_id: Any
    episode_id: Any
    version: int
    kind: DeliveryKind
    occasion: str
    contact: AlertContact
    channel: ChannelName
    attempt: int
    role: str
    scope: Scope
    resumed: bool
    """The last attempt's sender died before recording how it went."""


@dataclass(frozen=True)
class DeliveryPolicy:
    attempts_per_channel: int = 8
    backoff: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(first_delay=2.0, max_delay=300.0)
    )


def claimed_as_raised(written: list[Envelope]) -> list[tuple[Delivery, datetime]]:
    """The first messages, and their leases, that the handler claimed in the commit
    raising their alerts: a claim right after an ``AlertRaised`` on its stream."""
    raised = {e.stream_id: e.event for e in written if e.stream_version == 1}
    claimed = []
    for e in written:
        alert, claim = raised.get(e.stream_id), e.event
        if (
            e.stream_version == 2  # the claim right after the alert
            and isinstance(alert, AlertRaised)
            and isinstance(claim, AlertSendAttempted)
        ):
            delivery = Delivery(
                claim.delivery_id, alert.alert_id, alert.episode_id, 2, claim.kind,
                "", alert.contact, claim.channel, claim.attempt, alert.role,
                Scope(alert.scope), resumed=False,
            )  # fmt: skip
            claimed.append((delivery, claim.lease_until))
    return claimed


class Dispatcher:
    def __init__(
        self,
        notifier: Notifier,
        channels: Mapping[str, Channel],
        links: AckLinks | None,
        *,
        policy: DeliveryPolicy | None = None,
        poll_s: float = 1.0,
        batch: int = 64,
    ) -> None:
        self.notifier = notifier
        self.channels = channels
        self.links = links
        self.policy = policy or DeliveryPolicy()
        self.poll_s = poll_s
        self.batch = batch
        self.running = False
        self._in_flight: dict[Any, asyncio.Task[None]] = {}
        self._raised = notifier.store.written(RAISED)
        self._claimed: deque[tuple[Delivery, datetime]] = deque()

    async def run(self, stop: asyncio.Event) -> None:
        """Start each delivery as it comes due, without waiting for the ones in
        flight: one slow recipient must not hold up the next child's alerts."""
        self.running = True
        try:
            while not stop.is_set():
                changes = self.notifier.store.changes(QUEUEING)  # new after each
                try:
                    started = await self._start_due()
                except Exception as exc:  # a database blip: next round
                    log.warning("dispatch_failed", error_type=type(exc).__name__)
                    started = []
                if not started:
                    await wait_any(stop, changes, self.poll_s)
        finally:
            self.running = False
            await self._send_the_rest()

    async def _send_the_rest(self) -> None:
        """Finish what is in flight, and send every message claimed as its alert was
        raised: the handlers stopped first (``run_workers``), so none comes later,
        and none waits for its lease to run out in the next process."""
        episodes = _Episodes(self.notifier.episode)
        while self._start_claimed(episodes) or self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def dispatch_due(self) -> int:
        """Send what is due and not already in flight; returns how many."""
        started = await self._start_due()
        await asyncio.gather(*started)
        return len(started)

    async def _start_due(self) -> list[asyncio.Task[None]]:
        """Up to ``batch`` in flight, one per alert: its claim is at the alert
        stream's version, so a second one would only lose. Messages claimed as
        their alerts were raised go first, before the read for the others."""
        episodes = _Episodes(self.notifier.episode)
        started = self._start_claimed(episodes)
        room = self.batch - len(self._in_flight)
        due = [d for d in await self._due() if d.alert_id not in self._in_flight]
        started += [
            self._start(d, self._deliver(d, episodes)) for d in due[: max(room, 0)]
        ]
        return started

    def _start_claimed(self, episodes: _Episodes) -> list[asyncio.Task[None]]:
        return [
            self._start(d, self._send(d, d.attempt, episodes))
            for d in self._take_claimed(self.batch - len(self._in_flight))
        ]

    def _take_claimed(self, room: int) -> list[Delivery]:
        """Claimed messages whose lease has not run out (those the next round's read
        finds due, as a dead sender's)."""
        while not self._raised.empty():
            self._claimed.extend(claimed_as_raised(self._raised.get_nowait()))
        now = self.notifier.now()
        taken: list[Delivery] = []
        while self._claimed and len(taken) < room:
            delivery, lease_until = self._claimed.popleft()
            if lease_until > now:
                taken.append(delivery)
        return taken

    def _start(
        self, d: Delivery, work: Coroutine[Any, Any, None]
    ) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name="deliver")
        self._in_flight[d.alert_id] = task
        task.add_done_callback(functools.partial(self._finished, d.alert_id))
        return task

    def _finished(self, alert_id: Any, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(alert_id, None)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()  # a database blip: the lease brings it back
            log.warning("delivery_failed", error_type=type(error).__name__)

    async def _due(self) -> list[Delivery]:
        rows = await self.notifier.store.select(
            DUE, {"now": self.notifier.now(), "limit": self.batch}
        )
        seen: set[Any] = set()
        due = []
        for row in rows:
            if row.alert_id in seen:  # one claim per alert stream per round
                continue
            seen.add(row.alert_id)
            full = row.kind in ("escalation", "failure")
            due.append(
                Delivery(
                    row.delivery_id,
                    row.alert_id,
                    row.episode_id,
                    row.version,
                    row.kind,
                    row.occasion,
                    AlertContact.model_validate(row.contact),
                    row.channels[row.channel_index],
                    row.attempt,
                    row.role,
                    Scope.full if full else Scope(row.scope),
                    row.status == "attempting",
                )
            )
        return due

    async def _deliver(self, d: Delivery, episodes: _Episodes) -> None:
        attempt = d.attempt + 1
        now = self.notifier.now()
        claim = AlertSendAttempted(
            alert_id=d.alert_id,
            delivery_id=d.delivery_id,
            kind=d.kind,
            channel=d.channel,
            attempt=attempt,
            attempted_at=now,
            lease_until=now + self.notifier.lease,
        )
        try:
            await self._record(d, attempt, "claim", [claim], d.version)
        except ConcurrencyError:
            return  # another dispatcher has it, or the alert moved: next round
        await self._send(d, attempt, episodes)

    async def _send(self, d: Delivery, attempt: int, episodes: _Episodes) -> None:
        """Send a claimed attempt and record how it went."""
        now = self.notifier.now()
        try:
            message = self._message(d, await episodes.facts(d.episode_id), now)
            channel = self.channels.get(d.channel)
            if channel is None:
                raise PermanentDeliveryError(d.channel, "channel_not_configured")
            receipt = None
            if d.resumed and isinstance(channel, Recoverable):
                receipt = await channel.find(message)
            receipt = receipt or await channel.send(message)
        except DeliveryError as error:
            await self._record(
                d, attempt, "outcome", await self._failed(d, attempt, error)
            )
            return
        sent = AlertSent(
            alert_id=d.alert_id,
            delivery_id=d.delivery_id,
            kind=d.kind,
            channel=d.channel,
            attempt=attempt,
            provider_id=receipt.provider_id,
            accepted_at=receipt.accepted_at,
        )
        await self._record(d, attempt, "outcome", [sent])

    def _message(
        self, d: Delivery, facts: EpisodeFacts | None, now: datetime
    ) -> Message:
        if facts is None:
            raise PermanentDeliveryError(d.channel, "episode_not_found")
        text = words(
            d.kind,
            d.scope,
            facts,
            step=int(d.occasion) if d.kind == "escalation" else 0,
            failed_role=d.role,
        )
        ack = None
        if self.links and d.kind in ("alert", "update", "escalation"):
            ack = self.links.url(d.alert_id, d.delivery_id, now=now)
        return Message(
            alert_id=d.alert_id,
            recipient_id=d.contact.recipient_id,
            kind=d.kind,
            occasion=d.occasion,
            subject=text.subject,
            body=text.body,
            ack_url=ack,
            email=d.contact.email,
            phone=d.contact.phone,
            webhook_url=d.contact.webhook_url,
        )

    async def _failed(
        self, d: Delivery, attempt: int, error: DeliveryError
    ) -> list[Event]:
        now = self.notifier.now()
        permanent = not isinstance(error, TemporaryDeliveryError) or (
            attempt >= self.policy.attempts_per_channel
        )
        retry_at = None
        if not permanent:
            wait = self.policy.backoff.delay(attempt - 1)
            hinted = getattr(error, "retry_after", None) or 0.0
            retry_at = now + timedelta(seconds=max(wait, hinted))
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

    async def _record(
        self,
        d: Delivery,
        attempt: int,
        step: str,
        events: list[Event],
        expected_version: int | None = None,
    ) -> None:
        new = [
            NewEvent(
                event=event,
                event_id=derive_id(NAME, d.delivery_id, attempt, step, index),
                actor=NAME,
            )
            for index, event in enumerate(events)
        ]
        append = Append(alert_stream(d.alert_id), new, expected_version)
        await self.notifier.store.commit(Commit([append]))


class _Episodes:
    """The episodes of one round's deliveries, each read once, when first needed: a
    report's messages come due together. The reads start after the round found its
    deliveries, so each sees whatever queued them."""

    def __init__(self, read: Callable[[Any], Awaitable[EpisodeFacts | None]]) -> None:
        self._read = read
        self._reads: dict[Any, asyncio.Future[EpisodeFacts | None]] = {}

    async def facts(self, episode_id: Any) -> EpisodeFacts | None:
        if episode_id not in self._reads:
            self._reads[episode_id] = asyncio.ensure_future(self._read(episode_id))
        return await asyncio.shield(self._reads[episode_id])
