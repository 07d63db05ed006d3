"""The worker that polls a read model for work that has come due (reviews,
escalations): one loop, so each service keeps only its own round of work.

Its timers are rows in the database, so a process that was down does on its return
whatever fell due meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from events.subscriptions import wait_any

log = structlog.get_logger()


class Poller:
    """Does a round of due work, at most ``batch`` items, then again at once if the
    round was full, otherwise after ``poll_s``. A round that fails (a database blip)
    is logged as ``failed`` and tried again next round."""

    def __init__(
        self,
        round_of_work: Callable[[], Awaitable[int]],
        *,
        failed: str,
        poll_s: float,
        batch: int,
    ) -> None:
        self._round = round_of_work
        self._failed = failed
        self.poll_s = poll_s
        self.batch = batch
        self.running = False

    async def run(self, stop: asyncio.Event) -> None:
        self.running = True
        try:
            while not stop.is_set():
                try:
                    done = await self._round()
                except Exception as exc:  # a database blip: try again next round
                    log.warning(self._failed, error_type=type(exc).__name__)
                    done = 0
                if done < self.batch:
                    await wait_any(stop, asyncio.Event(), self.poll_s)
        finally:
            self.running = False
