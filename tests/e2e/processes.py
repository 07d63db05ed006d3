"""Start `lantern` commands as real processes and talk to them over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.waiting import eventually

LANTERN = str(Path(sys.executable).parent / "lantern")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lantern(*args: str, env: dict[str, str], **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(  # type: ignore[call-overload]
        [LANTERN, *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def run_lantern(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LANTERN, *args], env={**os.environ, **env}, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


async def until_healthy(base: str, timeout: float = 30) -> None:
    async def answers() -> bool:
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{base}/health")).status_code == 200
        except httpx.TransportError:
            return False

    await eventually(answers, timeout=timeout, what=f"{base}/health")


def terminate(process: subprocess.Popen[str], timeout: float = 30) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout)
