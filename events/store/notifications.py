"""Telling those who wait that commits landed: this process's own commits from the
writer, and on PostgreSQL other processes' too (LISTEN/NOTIFY), so a tailing worker
wakes at a commit instead of at its next poll."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from events.envelope import Envelope
from events.store import Commit

log = structlog.get_logger()

COMMITS_CHANNEL = "lantern_commits"  # PostgreSQL NOTIFY: events were committed


class CommitSignals:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.listener: asyncio.Task[None] | None = None
        self._postgres = engine.dialect.name == "postgresql"
        self._changed: dict[frozenset[str] | None, asyncio.Event] = {}
        self._written: dict[frozenset[str], asyncio.Queue[list[Envelope]]] = {}

    def written(self, types: frozenset[str]) -> asyncio.Queue[list[Envelope]]:
        """From now on, each group this process commits, as the events of ``types``
        it appended (not a redelivery's, already stored): for a worker acting on what
        another part of this process records, without reading it back. Other
        processes' commits are not here. Callers asking for the same ``types`` share
        the queue, so each group goes to one of them."""
        return self._written.setdefault(types, asyncio.Queue())

    def changes(self, types: frozenset[str] | None = None) -> asyncio.Event:
        """Set at the next commit, or with ``types`` at the next one that appends
        one of them: a subscriber need not wake, and read, for every commit. Take
        it *before* reading, then wait. On PostgreSQL that includes other
        processes' commits (LISTEN/NOTIFY), so a separate relay or subscriber wakes
        at once instead of at its next poll."""
        if self._postgres and (self.listener is None or self.listener.done()):
            self.listener = asyncio.create_task(
                self._listen_forever(), name="store-listener"
            )
        return self._changed.setdefault(types, asyncio.Event())

    def committed(self, commits: Iterable[Commit], written: list[Envelope]) -> None:
        """A group this process just committed, with the events it appended."""
        self._hand_on(written)
        self._wake(_event_types(commits))

    def _hand_on(self, written: list[Envelope]) -> None:
        for types, queue in self._written.items():
            if wanted := [e for e in written if e.type in types]:
                queue.put_nowait(wanted)

    def _wake(self, types: Collection[str] | None = None) -> None:
        """Set the signals of those waiting for ``types``; None (another process
        committed, what is not known) wakes everyone."""
        for wanted in list(self._changed):
            if wanted is None or types is None or not wanted.isdisjoint(types):
                self._changed.pop(wanted).set()

    async def _listen_forever(self) -> None:
        failures = 0
        while True:
            try:
                await self._listen_once()
                failures = 0
            except Exception as exc:  # the database restarting: listen again soon
                failures += 1
                log.warning("listen_failed", error_type=type(exc).__name__)
            await asyncio.sleep(min(10.0, 0.5 * 2 ** min(failures, 5)))

    async def _listen_once(self) -> None:
        """Listen on one connection until it is lost."""
        lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_lost(_: object) -> None:
            if not lost.done():
                lost.set_result(None)

        async with self._engine.connect() as conn:
            raw: Any = (await conn.get_raw_connection()).driver_connection
            raw.add_termination_listener(on_lost)
            await raw.add_listener(COMMITS_CHANNEL, self._notified)
            self._wake()  # whatever was committed while nobody listened
            await lost

    def _notified(self, _conn: object, _pid: int, _channel: str, types: str) -> None:
        self._wake(set(types.split(",")) if types else None)


def notice(commits: list[Commit]) -> str:
    """The group's event types, for the commit notice (at most 8000 bytes; empty
    means "not known", and everyone wakes)."""
    types = ",".join(sorted(_event_types(commits)))
    return types if len(types) < 8000 else ""


def _event_types(commits: Iterable[Commit]) -> set[str]:
    return {e.event.type_name for c in commits for a in c.appends for e in a.events}
