"""Start `lantern` commands as real processes and talk to them over HTTP."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.waiting import HTTP_TIMEOUT, eventually

LANTERN = str(Path(sys.executable).parent / "lantern")


def _worker_ports() -> Iterator[int]:
    """This test process's own slice of ports, below the kernel's ephemeral range
    (32768 up): a port handed out here is never one the kernel just gave a client
    connection, nor one another pytest-xdist worker hands out (gw0, gw1, ...)."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    first = 20_000 + 2_000 * worker
    start = first + os.getpid() % 1_000  # a rerun does not meet its last TIME_WAITs
    return itertools.cycle([*range(start, first + 2_000), *range(first, start)])


_PORTS = _worker_ports()


def free_port() -> int:
    """A port nothing listens on, for a server a test starts."""
    while True:
        port = next(_PORTS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def lantern(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a `lantern` command; its output goes to a file (``log_of``), never to a
    pipe nobody reads, which would block a chatty process."""
    log = tempfile.NamedTemporaryFile(prefix="lantern-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [LANTERN, *args],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    LOGS[process.pid] = Path(log.name)
    return process


LOGS: dict[int, Path] = {}


def log_of(process: subprocess.Popen[bytes]) -> str:
    return LOGS[process.pid].read_text(errors="replace")[-5000:]


def run_lantern(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LANTERN, *args], env={**os.environ, **env}, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


async def until_healthy(base: str, timeout: float = 90) -> None:
    async def answers() -> bool:
        try:
            async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
                return (await client.get(f"{base}/health")).status_code == 200
        except httpx.TransportError:
            return False

    await eventually(answers, timeout=timeout, what=f"{base}/health")


def terminate(process: subprocess.Popen[Any], timeout: float = 30) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout)
