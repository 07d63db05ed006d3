"""Start `lantern` commands as real processes and talk to them over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from tests.waiting import eventually

LANTERN = str(Path(sys.executable).parent / "lantern")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{base}/health")).status_code == 200
        except httpx.TransportError:
            return False

    await eventually(answers, timeout=timeout, what=f"{base}/health")


def terminate(process: subprocess.Popen[Any], timeout: float = 30) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout)
