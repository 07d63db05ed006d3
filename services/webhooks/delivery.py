"""The delivery worker: each subscription's events, in the store's order, POSTed to
its URL as signed CloudEvents, one at a time.

A subscription's checkpoint (``position``) moves past an event only once its URL
answered 2xx, so an event in flight when the process dies is sent again, with the
same id (at least once). Any other answer, a timeout or a refused connection is
retried, with exponential backoff and full jitter, and never skipped: a
subscription failing for ``webhooks_pause_after_s`` is paused, with the reason
kept on it for its owner to read, a ``WebhookSubscriptionPaused`` event and a
``webhook_subscription_paused`` log line.
Each write of the checkpoint is conditional on the one read, so a replay or a
deletion meanwhile wins over a delivery in flight.

A partner council's subscription (``placing_authority``) passes by the events of
other councils' children, and of no child.

The URL is checked as the alert webhooks' are: its rule again, then every address
its host resolves to, and the connection made to the address checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
import structlog
from sqlalchemy import select, update

from events.contracts.subscriptions import WebhookSubscriptionPaused
from events.envelope import Envelope, NewEvent, utcnow
from events.ids import derive_id
from events.store import Append, Commit
from events.store.sql import SqlEventStore
from events.streams import Category, stream_name
from events.subscriptions import keep_running, wait_any
from services.outbound.destinations import Address, address_allowed, url_problem
from services.outbound.signing import (
    IDEMPOTENCY_HEADER,
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    sign,
)
from services.webhooks.rules import CONTENT_TYPE, backoff, cloudevent, whose_child
from services.webhooks.settings import WebhooksSettings
from services.webhooks.tables import webhook_subscriptions as subs

log = structlog.get_logger()


class Failed(Exception):
    """Not delivered, for now; ``code`` is what the subscription shows."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def body_of(envelope: Envelope) -> bytes:
    event = envelope.event  # the current version, upcast from older ones
    document = cloudevent(
        event_id=envelope.event_id,
        type_name=envelope.type,
        stream_id=envelope.stream_id,
        position=envelope.position,
        schema_version=event.schema_version,
        occurred_at=envelope.occurred_at,
        data=event.to_data(),
    )
    return json.dumps(document, separators=(",", ":")).encode()


class Deliveries:
    """The worker: ``run`` until stopped, delivering every unpaused subscription."""

    def __init__(
        self,
        settings: WebhooksSettings,
        store: SqlEventStore,
        client: httpx.AsyncClient,
        allowed_hosts: frozenset[str],
        *,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.client = client
        self.allowed = allowed_hosts
        self.now = now
        self.running = False
        self._attempts: dict[UUID, int] = {}
        self._retry_at: dict[UUID, float] = {}
        self._authorities: dict[str, str] = {}  # an episode's placing authority
        self._alerts: dict[str, str] = {}  # an alert's episode

    async def run(self, stop: asyncio.Event) -> None:
        self.running = True
        try:
            await keep_running("webhooks", self._follow, stop)
        finally:
            self.running = False

    async def _follow(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            changed = self.store.changes()
            wait = await self.round(stop)
            await wait_any(stop, changed, wait)

    async def round(self, stop: asyncio.Event) -> float:
        """Deliver what is due of every subscription, side by side; returns how
        long until the next is due (0: one has more in hand)."""
        async with self.store.engine.connect() as conn:
            rows = (await conn.execute(select(subs).where(~subs.c.paused))).all()
        live = {r.subscription_id for r in rows}
        for gone in set(self._retry_at) - live:  # paused or deleted meanwhile
            self._retry_at.pop(gone, None)
            self._attempts.pop(gone, None)
        clock = time.monotonic()
        due = [r for r in rows if self._retry_at.get(r.subscription_id, 0) <= clock]
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self.deliver(r, stop)) for r in due]
        waits = [self.settings.webhooks_poll_s]
        waits += [at - time.monotonic() for at in self._retry_at.values()]
        if any(t.result() for t in tasks):
            waits.append(0)
        return max(0.0, min(waits))

    async def deliver(self, row: Any, stop: asyncio.Event) -> bool:
        """One page of one subscription; True if there may be more."""
        sid, position = row.subscription_id, row.position
        failing_since = row.failing_since
        page = await self.store.read_page(
            after=position,
            limit=self.settings.webhooks_page_size,
            types=frozenset(row.event_types),
        )
        for envelope in page.envelopes:
            if stop.is_set():
                return False
            wanted = row.placing_authority
            if wanted is not None and await self.authority_of(envelope) != wanted:
                continue  # another council's child, or none: passed by
            try:
                await self.post(row, envelope)
            except Failed as failure:
                await self._failed(row, failure.code, failing_since)
                return False
            if not await self._advance(sid, position, envelope.position):
                return False  # replayed, paused or deleted meanwhile: read it again
            position = envelope.position
            if failing_since is not None or sid in self._attempts:
                await self._recovered(sid)
                failing_since = None
        if page.last > position and not await self._advance(sid, position, page.last):
            return False
        return page.read >= self.settings.webhooks_page_size

    async def authority_of(self, envelope: Envelope) -> str | None:
        """The placing authority of the child the event is about, as its report
        said (an episode's, its interview's, an alert's) or its record says (the
        child's); None for an event about no child."""
        where = whose_child(envelope.stream_id)
        if where is None:
            return None
        kind, key = where
        if kind == "child":
            records = await self.store.read_stream(envelope.stream_id)
            found = [e.data for e in records if e.type == "ChildRecorded"]
            return str(found[-1]["placing_authority"]) if found else None
        if kind == "alert":
            key = await self._alert_episode(envelope.stream_id)
        if key not in self._authorities:
            first = await self.store.read_stream(f"episode-{key}")
            if not first or first[0].type != "MissingReported":
                return None
            self._authorities[key] = first[0].data["placement"]["placing_authority"]
        return self._authorities[key]

    async def _alert_episode(self, stream_id: str) -> str:
        if stream_id not in self._alerts:
            raised = await self.store.read_stream(stream_id)
            self._alerts[stream_id] = str(raised[0].data["episode_id"])
        return self._alerts[stream_id]

    async def post(self, row: Any, envelope: Envelope) -> None:
        try:
            content = body_of(envelope)
        except Exception as exc:  # not decodable: held, never skipped
            raise Failed(f"undecodable_event:{type(exc).__name__}") from None
        if url_problem(row.url, self.allowed) is not None:
            raise Failed("url_not_allowed")
        target = httpx.URL(row.url)
        now = self.now()
        headers = {
            "Content-Type": CONTENT_TYPE,
            "Host": target.netloc.decode("ascii"),
            SIGNATURE_HEADER: sign(row.secret, content, timestamp=int(now.timestamp())),
            KEY_ID_HEADER: str(row.subscription_id),
            IDEMPOTENCY_HEADER: str(envelope.event_id),
        }
        timeout = self.settings.webhooks_timeout_s
        try:
            async with asyncio.timeout(timeout):
                address = await self._address(target)
                response = await self.client.post(
                    str(target.copy_with(host=str(address))),
                    content=content, headers=headers, timeout=timeout,
                    follow_redirects=False,
                    extensions={"sni_hostname": target.host},
                )  # fmt: skip
        except (httpx.TimeoutException, TimeoutError):
            raise Failed("timeout") from None
        except (httpx.HTTPError, OSError) as exc:  # the text names the URL
            raise Failed(type(exc).__name__) from None
        if not response.is_success:
            raise Failed(f"http_{response.status_code}")

    async def _address(self, target: httpx.URL) -> Address:
        port = target.port or (443 if target.scheme == "https" else 80)
        found = await asyncio.get_running_loop().getaddrinfo(
            target.host, port, type=socket.SOCK_STREAM
        )
        addresses = [ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in found]
        if not addresses:
            raise Failed("name_not_resolved")
        if target.host not in self.allowed and not all(
            address_allowed(a) for a in addresses
        ):
            raise Failed("address_not_allowed")
        return addresses[0]

    async def _advance(self, sid: UUID, old: int, new: int) -> bool:
        async with self.store.engine.begin() as conn:
            moved = await conn.execute(
                update(subs)
                .where(subs.c.subscription_id == sid, subs.c.position == old)
                .where(~subs.c.paused)
                .values(position=new, updated_at=self.now())
            )
        return bool(moved.rowcount)

    async def _record_pause(
        self, row: Any, since: datetime, code: str, reason: str, now: datetime
    ) -> None:
        """After the row: a crash between the two loses the event, never the pause
        (the subscription shows it). Its id derives from the failure it ends."""
        sid = row.subscription_id
        paused = WebhookSubscriptionPaused(
            subscription_id=sid, client_id=row.client_id, failing_since=since,
            last_error=code, reason=reason, paused_at=now,
        )  # fmt: skip
        new = NewEvent(
            event=paused,
            event_id=derive_id("webhooks", "paused", sid, since.isoformat()),
            actor="webhooks",
            occurred_at=now,
        )
        stream = stream_name(Category.subscription, sid)
        await self.store.commit(Commit([Append(stream, [new])]))

    async def _recovered(self, sid: UUID) -> None:
        self._attempts.pop(sid, None)
        self._retry_at.pop(sid, None)
        async with self.store.engine.begin() as conn:
            await conn.execute(
                update(subs)
                .where(subs.c.subscription_id == sid)
                .values(failing_since=None, last_error=None)
            )

    async def _failed(
        self, row: Any, code: str, failing_since: datetime | None
    ) -> None:
        sid = row.subscription_id
        attempt = self._attempts.get(sid, 0)
        self._attempts[sid] = attempt + 1
        delay = backoff(
            attempt,
            self.settings.webhooks_retry_first_s,
            self.settings.webhooks_retry_max_s,
        )
        self._retry_at[sid] = time.monotonic() + delay
        now = self.now()
        since = failing_since or now
        values: dict[str, Any] = {"failing_since": since, "last_error": code}
        give_up = (now - since).total_seconds() >= self.settings.webhooks_pause_after_s
        if give_up:
            reason = f"failing since {since.isoformat()} ({code})"
            values |= {"paused": True, "paused_reason": reason}
            self._attempts.pop(sid, None)
            self._retry_at.pop(sid, None)
        async with self.store.engine.begin() as conn:
            changed = await conn.execute(
                update(subs)
                .where(subs.c.subscription_id == sid, ~subs.c.paused)
                .values(**values)
            )
        if give_up and changed.rowcount:
            await self._record_pause(row, since, code, values["paused_reason"], now)
        log.warning(
            "webhook_subscription_paused" if give_up else "webhook_delivery_failed",
            subscription_id=str(sid),
            client_id=str(row.client_id),
            error=code,
            attempt=attempt + 1,
            retry_in=None if give_up else round(delay, 3),
        )
