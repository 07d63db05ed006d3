"""Intake: sustained durable POST /v1/missing-reports rate and p50/p99 latency at 32
concurrent connections on PostgreSQL, and in the same run a bare FastAPI endpoint that
validates the same body without storing it. Load comes from wrk (Debian's package),
a separate process, so the Python servers are what is measured, with each server
process's CPU time (user + system) per request. Each server first takes 2 s of the
same load, not measured: the figures are the steady state, not the first requests'
cold connections and statement caches.

    .venv/bin/python -m bench.intake [--quick] [--runs N]
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import psutil

from bench.common import arguments, fresh_postgres, print_table, quiet_logs, spread
from tests.api import a_report_body
from tests.e2e.processes import free_port, until_healthy

CONNECTIONS = 32
WARM_UP_S = 2
BIN = Path(sys.executable).parent

WRK_SCRIPT = """
local n = 0
function setup(thread) n = n + 1; thread:set("tid", n) end
function init(args) counter = 0 end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer TOKEN"
local body = [[BODY]]
function request()
  counter = counter + 1
  local ref = string.format("%s-%d", tid, counter)
  return wrk.format(nil, "/v1/missing-reports", nil, string.gsub(body, "__REF__", ref))
end
"""


def _wrk() -> str:
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    return "wrk"


def _script(token: str, folder: Path) -> Path:
    body = json.dumps(a_report_body(f"BENCH-{uuid.uuid4().hex[:8]}-__REF__"))
    path = folder / "post.lua"
    path.write_text(WRK_SCRIPT.replace("TOKEN", token).replace("BODY", body))
    return path


def _load(base: str, script: Path, seconds: int) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, non-2xx responses) from one wrk run."""
    out = subprocess.run(
        [
            _wrk(),
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50, p99 = (_ms(re.search(rf"{p}%\s+([\d.]+\w+)", out).group(1)) for p in (50, 99))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, p50, p99, int(errors.group(1)) if errors else 0


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


@asynccontextmanager
async def _server(
    command: list[str], env: dict[str, str]
) -> AsyncIterator[tuple[str, psutil.Process]]:
    port = free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await until_healthy(base) if "lantern" in command[0] else await _listening(port)
        yield base, psutil.Process(process.pid)
    finally:
        process.terminate()
        process.wait(30)


async def _listening(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError("the bare server did not start")


async def _measured(
    server: tuple[str, psutil.Process], token: str, folder: Path, seconds: int
) -> tuple[float, float, float, int, float]:
    """One measured wrk run after the unmeasured warm-up, each with fresh references;
    with the server's CPU time per request, in microseconds."""
    base, process = server
    await asyncio.to_thread(_load, base, _script(token, folder), WARM_UP_S)
    before = sum(process.cpu_times()[:2])
    rate, p50, p99, errors = await asyncio.to_thread(
        _load, base, _script(token, folder), seconds
    )
    cpu = sum(process.cpu_times()[:2]) - before
    return rate, p50, p99, errors, cpu / (rate * seconds) * 1e6


async def main() -> None:
    args = arguments(__doc__, runs=3).parse_args()
    quiet_logs()
    seconds = 3 if args.quick else 10
    durable: list[tuple[float, float, float, int, float]] = []
    bare: list[tuple[float, float, float, int, float]] = []
    async with fresh_postgres() as url:
        env = {
            "LANTERN_DATABASE_URL": url,
            "LANTERN_LOG_LEVEL": "warning",
            "LANTERN_RATE_LIMIT_PER_MINUTE": "100000000",
            "LANTERN_RATE_LIMIT_BURST": "100000",
        }
        created = subprocess.run(
            [
                str(BIN / "lantern"),
                "clients",
                "create",
                "--name",
                "bench",
                "--role",
                "police",
                "--force",
                "KENT",
            ],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        token = created.stdout.strip().splitlines()[-1]
        with tempfile.TemporaryDirectory() as folder:
            for _ in range(args.runs):
                async with _server([str(BIN / "lantern"), "intake"], env) as server:
                    durable.append(
                        await _measured(server, token, Path(folder), seconds)
                    )
                bare_command = [
                    str(BIN / "uvicorn"),
                    "bench.bare_intake:app",
                    "--log-level",
                    "warning",
                ]
                async with _server(bare_command, {}) as server:
                    bare.append(await _measured(server, token, Path(folder), seconds))
    rows = [
        [
            name,
            spread([r[0] for r in runs]),
            spread([r[1] for r in runs], ".1f"),
            spread([r[2] for r in runs], ".1f"),
            spread([r[4] for r in runs]),
            sum(r[3] for r in runs),
        ]
        for name, runs in (
            ("durable POST (PostgreSQL)", durable),
            ("bare, not stored", bare),
        )
    ]
    print_table(
        f"POST /v1/missing-reports, {CONNECTIONS} connections, "
        f"{seconds} s x {args.runs}",
        ["endpoint", "req/s", "p50 ms", "p99 ms", "server CPU us/req", "non-2xx"],
        rows,
    )
    ratio = [d[0] / b[0] for d, b in zip(durable, bare, strict=True)]
    print(f"\ndurable / bare rate: {spread(ratio, '.2f')} (goal >= 0.5)")


if __name__ == "__main__":
    asyncio.run(main())
