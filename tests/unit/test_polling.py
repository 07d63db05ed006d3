"""The polling worker shared by the schedulers: a full round goes again at once, a
failed one is logged and tried next round, and a stop ends it."""

from __future__ import annotations

import asyncio

from structlog.testing import capture_logs

from events.polling import Poller


async def test_a_full_round_goes_again_and_a_failed_one_waits_for_the_next():
    stop = asyncio.Event()
    rounds: list[bool] = []

    async def round_of_work() -> int:
        rounds.append(poller.running)
        if len(rounds) == 1:
            return 2  # full: no wait, or this test would wait an hour
        stop.set()
        raise ConnectionResetError

    poller = Poller(round_of_work, failed="work_failed", poll_s=3600, batch=2)
    with capture_logs() as logs:
        await asyncio.wait_for(poller.run(stop), timeout=10)
    assert rounds == [True, True] and not poller.running
    assert logs == [
        {
            "event": "work_failed",
            "error_type": "ConnectionResetError",
            "log_level": "warning",
        }
    ]


async def test_a_round_that_is_not_full_waits_for_the_poll():
    stop = asyncio.Event()
    rounds = 0

    async def round_of_work() -> int:
        nonlocal rounds
        rounds += 1
        asyncio.get_running_loop().call_later(0.05, stop.set)
        await asyncio.sleep(0)  # as a query would: a loop that does not wait spins
        return 1

    poller = Poller(round_of_work, failed="work_failed", poll_s=3600, batch=2)
    await asyncio.wait_for(poller.run(stop), timeout=10)
    assert rounds == 1
