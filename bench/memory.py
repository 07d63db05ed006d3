"""Resident memory (RSS) of a ``lantern run`` process on SQLite, no Kafka.

Idle: the largest RSS over a few seconds after /health answers. Under load: the largest
RSS while this process appends 50,000 events into the server's SQLite file through a
SqlEventStore (32 writers, 10 events per append) and until the server's embedded
subscriptions have caught up with them. RSS is sampled every 50 ms.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import IO

import psutil

from bench.common import (
    a_stream,
    arguments,
    bench_event,
    conditions,
    fresh_sqlite,
    opened,
    print_table,
    quiet_logs,
    spread,
)
from events.store.sql import SqlEventStore
from events.subscriptions.store import PARTITION
from services.notifier.handlers import NAME as NOTIFIER
from services.triage.handlers import NAME as TRIAGE
from tests.e2e.processes import LANTERN, free_port, terminate, until_healthy

GOAL_MB = 200
SAMPLE_EVERY = 0.05
IDLE_SECONDS = 3.0
WRITERS = 32
PER_APPEND = 10
SUBSCRIBERS = (TRIAGE, NOTIFIER)
"""The embedded subscriptions of ``lantern run``, whose checkpoints show catch-up."""


class Peak:
    """The largest RSS of a process, sampled in the background while in use."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.bytes = 0

    @asynccontextmanager
    async def sampling(self) -> AsyncIterator[Peak]:
        task = asyncio.create_task(self._sample())
        try:
            yield self
        finally:
            task.cancel()
            self._take()

    async def _sample(self) -> None:
        while True:
            self._take()
            await asyncio.sleep(SAMPLE_EVERY)

    def _take(self) -> None:
        self.bytes = max(self.bytes, self.process.memory_info().rss)

    @property
    def mb(self) -> float:
        return self.bytes / 2**20


@contextmanager
def lantern_run(url: str, port: int) -> Iterator[psutil.Process]:
    env = {**os.environ, "LANTERN_DATABASE_URL": url, "LANTERN_LOG_LEVEL": "warning"}
    env.pop("LANTERN_KAFKA_BOOTSTRAP_SERVERS", None)  # embedded: no relay, no Kafka
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(
            [LANTERN, "run", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
        try:
            yield psutil.Process(server.pid)
        except BaseException:
            _show_tail(log)
            raise
        finally:
            terminate(server)


def _show_tail(log: IO[str]) -> None:
    log.seek(0)
    print("lantern run said:\n" + "".join(log.readlines()[-20:]))


async def load(store: SqlEventStore, count: int) -> int:
    """Append ``count`` events with WRITERS concurrent writers; returns the head."""
    appends = count // PER_APPEND

    async def write(writer: int) -> None:
        stream, version = a_stream(), 0
        for n in range(writer, appends, WRITERS):
            batch = [bench_event(n * PER_APPEND + i) for i in range(PER_APPEND)]
            await store.append(stream, batch, expected_version=version)
            version += PER_APPEND

    await asyncio.gather(*(write(w) for w in range(WRITERS)))
    return await store.head()


async def caught_up(store: SqlEventStore, head: int, *, timeout: float) -> None:
    """Poll the server's checkpoints (another process: no commit to wait on)."""
    async with asyncio.timeout(timeout):
        while not all(
            [await store.checkpoint(name, PARTITION) >= head for name in SUBSCRIBERS]
        ):
            await asyncio.sleep(SAMPLE_EVERY)


async def one_run(count: int) -> tuple[float, float]:
    """(idle, under load) peak RSS in MB."""
    async with fresh_sqlite() as url:
        port = free_port()
        with lantern_run(url, port) as server:
            await until_healthy(f"http://127.0.0.1:{port}", timeout=60)
            idle = Peak(server)
            async with idle.sampling():
                await asyncio.sleep(IDLE_SECONDS)  # the idle period being measured
            busy = Peak(server)
            async with opened(url) as store, busy.sampling():
                head = await load(store, count)
                await caught_up(store, head, timeout=300)
    return idle.mb, busy.mb


async def main() -> None:
    args = arguments(__doc__, runs=3).parse_args()
    quiet_logs()
    with conditions("memory"):
        count = 10_000 if args.quick else 50_000
        results = [await one_run(count) for _ in range(args.runs)]
        idle, busy = [r[0] for r in results], [r[1] for r in results]
        print_table(
            f"RSS of `lantern run` (SQLite, embedded), MB, "
            f"median (min-max) of {args.runs} runs",
            ["state", "RSS MB"],
            [
                ("idle after startup", spread(idle, ".1f")),
                (f"peak, {count:,} events appended and handled", spread(busy, ".1f")),
            ],
        )
        worst = max(busy)
        verdict = "met" if worst < GOAL_MB else "NOT met"
        print(f"\nlargest RSS seen: {worst:.1f} MB (goal < {GOAL_MB} MB: {verdict})")


if __name__ == "__main__":
    asyncio.run(main())
