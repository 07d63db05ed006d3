"""Sending one delivery: its claim recorded before the channel is called, the message
sent (or, for a dead sender's attempt, found at the provider), and the outcome
recorded after (``AlertSent``, or what failures.py says of a failure).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from events import tracing
from events.contracts.alerts import (
    AlertDeliveryFailed,
    AlertMatter,
    AlertRaised,
    AlertSent,
)
from events.envelope import NewEvent
from events.ids import derive_id
from events.registry import Event
from events.store import Append, Commit, ConcurrencyError
from events.streams import Category, stream_name
from services.api.links import AckLinks
from services.notifier import metrics
from services.notifier.channels import (
    Channel,
    DeliveryError,
    Message,
    PermanentDeliveryError,
    Recoverable,
)
from services.notifier.claims import Delivery, next_claim
from services.notifier.failures import Failures
from services.notifier.handlers import NAME, Notifier
from services.notifier.matters import matter_words
from services.notifier.messages import EpisodeFacts, news_since, words


class Episodes:
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


class Sender:
    def __init__(
        self,
        notifier: Notifier,
        channels: Mapping[str, Channel],
        links: AckLinks | None,
        failures: Failures,
    ) -> None:
        self.notifier = notifier
        self.channels = channels
        self.links = links
        self.failures = failures

    async def claim_and_send(self, d: Delivery, episodes: Episodes) -> None:
        claim = next_claim(d, self.notifier.now(), self.notifier.lease)
        try:
            await self._record(d, claim.attempt, "claim", [claim], d.version)
        except ConcurrencyError:
            return  # another dispatcher has it, or the alert moved: next round
        await self.send(d, claim.attempt, episodes)

    async def send(self, d: Delivery, attempt: int, episodes: Episodes) -> None:
        """Send a claimed attempt and record how it went, in a client span of the
        trace that claimed it: its outcome's events carry that trace on."""
        attributes = {"lantern.channel": d.channel, "lantern.delivery_kind": d.kind}
        with tracing.following(
            d.trace_context, f"send {d.channel}", SpanKind.CLIENT, attributes
        ):
            await self._send(d, attempt, episodes)

    async def _send(self, d: Delivery, attempt: int, episodes: Episodes) -> None:
        now = self.notifier.now()
        try:
            facts = await episodes.facts(d.episode_id)
            matter = await self._matter(d) if d.matter and d.kind == "alert" else None
            message = self._message(d, facts, now, matter)
            channel = self.channels.get(d.channel)
            if channel is None:
                raise PermanentDeliveryError(d.channel, "channel_not_configured")
            receipt = None
            if d.resumed and isinstance(channel, Recoverable):
                receipt = await channel.find(message)
            receipt = receipt or await channel.send(message)
        except DeliveryError as error:
            trace.get_current_span().set_status(StatusCode.ERROR, error.code)
            failed = await self.failures.failed(d, attempt, error)
            await self._record(d, attempt, "outcome", failed)
            for_good = any(
                isinstance(e, AlertDeliveryFailed) and e.permanent for e in failed
            )
            metrics.failed(d.channel, for_good=for_good)
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
        received = facts.received_at if facts and d.kind == "alert" else None
        metrics.sent(d.channel, received, receipt.accepted_at)

    async def _matter(self, d: Delivery) -> AlertMatter | None:
        """What the alert is about, from its first event (its words need it)."""
        stream = stream_name(Category.alert, d.alert_id)
        first = (await self.notifier.store.read_stream(stream))[:1]
        raised = first[0].event if first else None
        return raised.matter if isinstance(raised, AlertRaised) else None

    def _message(
        self,
        d: Delivery,
        facts: EpisodeFacts | None,
        now: datetime,
        matter: AlertMatter | None = None,
    ) -> Message:
        if facts is None:
            raise PermanentDeliveryError(d.channel, "episode_not_found")
        if matter is not None:
            text = matter_words(matter, facts)
        else:
            text = words(
                d.kind,
                d.scope,
                facts,
                step=int(d.occasion) if d.kind == "escalation" else 0,
                failed_role=d.role,
                since=news_since(d.occasion) if d.kind == "update" else None,
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
        append = Append(stream_name(Category.alert, d.alert_id), new, expected_version)
        await self.notifier.store.commit(Commit([append]))
