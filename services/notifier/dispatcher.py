"""Sends what is due, as it comes due: which deliveries are in flight, and the order
of a stop. Reading and claiming what is due is claims.py's; sending one delivery and
recording its outcome, sending.py's; a failure's consequences, failures.py's.

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
from collections.abc import Coroutine, Mapping
from typing import Any

import structlog

from events.subscriptions import wait_any
from services.api.links import AckLinks
from services.notifier.channels import Channel
from services.notifier.claims import Delivery, RaisedClaims, read_due
from services.notifier.failures import DeliveryPolicy, Failures
from services.notifier.handlers import Notifier
from services.notifier.projector import QUEUEING
from services.notifier.sending import Episodes, Sender

log = structlog.get_logger()


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
        self._claimed = RaisedClaims(notifier)
        failures = Failures(notifier, self.policy)
        self._sender = Sender(notifier, channels, links, failures)

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
        episodes = Episodes(self.notifier.episode)
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
        episodes = Episodes(self.notifier.episode)
        started = self._start_claimed(episodes)
        room = self.batch - len(self._in_flight)
        due = [
            d
            for d in await read_due(self.notifier, self.batch)
            if d.alert_id not in self._in_flight
        ]
        started += [
            self._start(d, self._sender.claim_and_send(d, episodes))
            for d in due[: max(room, 0)]
        ]
        return started

    def _start_claimed(self, episodes: Episodes) -> list[asyncio.Task[None]]:
        return [
            self._start(d, self._sender.send(d, d.attempt, episodes))
            for d in self._claimed.take(self.batch - len(self._in_flight))
        ]

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
