"""A rolling restart loses nothing and repeats nothing: intake, triage, the notifier
and the relay run as separate processes on PostgreSQL and Kafka while the police
post a steady stream of reports, and each service in turn is stopped with SIGTERM
and replaced (intake as a rolling deployment does it: the new copy up on a port of
its own before the old one stops). Every report that got a 2xx becomes exactly one
message per recipient at the real channel servers: none missing, none twice."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from typer.testing import CliRunner

from services.cli import app as cli
from tests.channel_servers import Inbox, Receiver, serve_smtp
from tests.e2e.pipeline import (
    CHILD,
    NOTIFY_SECRET,
    SERVICE_ID,
    SMS_TEMPLATE,
    processes_env,
    recipients,
)
from tests.e2e.processes import (
    LOGS,
    free_port,
    lantern,
    log_of,
    terminate,
    until_healthy,
)
from tests.e2e.test_processes import ADA_REPORT
from tests.notify_server import Received, serve_app, serve_notify
from tests.waiting import eventually

PACE_S = 0.5
"""Two reports a second: some in flight at every restart, and few enough for a
shared two-core machine to triage and send in the test's time."""
REPORT = {**ADA_REPORT, "police_risk_grade": "medium"}
"""Ada, placed here by Camden: medium risk, so the MCET is told too."""
RECIPIENTS = 3
"""Ada's social worker (SMS), the police MCET (webhook), her home authority (e-mail)."""
STARTED = {
    "triage": "subscription_started",
    "notifier": "subscription_started",
    "relay": "relay_started",
}
"""What each worker logs once it works: the rollout moves on to the next then."""
Process = subprocess.Popen[bytes]
STARTING_S = 180
"""How long a process may take to start: seconds alone, but minutes on a machine
shared with other busy suites."""


@dataclass
class Police:
    """Posts reports through a load balancer's list of intakes, in turn; a report
    refused with a connection error is posted again, to the next one, as police
    systems retry, and counts once it gets a 2xx."""

    intakes: list[str]
    token: str
    accepted: list[str] = field(default_factory=list)
    retried: int = 0
    _turn: int = 0

    async def post(self, http: httpx.AsyncClient, reference: str) -> None:
        body = {**REPORT, "police_reference": reference}
        auth = {"Authorization": f"Bearer {self.token}"}
        while True:
            self._turn += 1
            base = self.intakes[self._turn % len(self.intakes)]
            try:
                answer = await http.post(
                    f"{base}/v1/missing-reports", json=body, headers=auth
                )
            except httpx.TransportError:
                self.retried += 1
                await asyncio.sleep(PACE_S)  # a retry's pace, not a synchronisation
                continue
            assert answer.is_success, answer.text
            self.accepted.append(reference)
            return

    async def stream(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            for n in itertools.count():
                if stop.is_set():
                    return
                await self.post(http, f"KNT-ROLL-{n}")
                await asyncio.sleep(PACE_S)  # the stream's pace


@dataclass
class Channels:
    inbox: Inbox
    hooks: Receiver
    notify: list[Received]

    def keys(self) -> dict[str, Counter[str]]:
        """Each channel's messages by their idempotency id: a repeat counts twice."""
        return {
            "webhook": Counter(h["idempotency-key"] for _, h, _ in self.hooks.received),
            "email": Counter(str(m["Message-ID"]) for m in self.inbox.received),
            "sms": Counter(r.body["reference"] for r in self.notify),
        }

    def sent(self) -> int:
        return sum(sum(c.values()) for c in self.keys().values())


async def test_rolling_restarts_lose_no_report_and_repeat_no_message(
    pg_database: str, kafka_servers: str, topic_prefix: str, tmp_path: Path
):
    inbox, hooks = Inbox(), Receiver()
    async with (
        serve_notify(SERVICE_ID, NOTIFY_SECRET, templates={SMS_TEMPLATE}) as notify,
        serve_app(hooks.app()) as hooks_root,
    ):
        with serve_smtp(inbox) as smtp_port:
            env = processes_env(
                pg_database, kafka_servers, topic_prefix, smtp_port, notify.base_url
            )
            for source in ("YOUTH_JUSTICE", "CME", "CSE"):  # none: less to wait on
                del env[f"LANTERN_SOURCES__{source}__BASE_URL"]
            token = await asyncio.to_thread(
                _setup, env, tmp_path, f"{hooks_root}/hooks"
            )
            channels = Channels(inbox, hooks, notify.state.received)
            processes: dict[str, Process] = {
                name: lantern(*args, env=env)
                for name, args in {
                    "intake": ("intake", "--port", env["LANTERN_PORT"]),
                    "triage": ("triage",),
                    "notifier": ("notifier",),
                    "relay": ("relay",),
                }.items()
            }
            stopped: dict[str, tuple[int, str]] = {}
            try:
                police = await _roll(env, token, processes, stopped, channels)
            finally:
                for name, process in processes.items():
                    code = await asyncio.to_thread(terminate, process)
                    stopped[f"{name} (last)"] = (code, log_of(process))

    keys = channels.keys()
    for channel, counts in keys.items():
        repeated = {k: n for k, n in counts.items() if n > 1}
        assert not repeated, f"{channel}: sent twice: {repeated}"
        missing = len(police.accepted) - len(counts)
        assert not missing, f"{channel}: {missing} of {len(police.accepted)} missing"
    assert len(set().union(*keys.values())) == RECIPIENTS * len(police.accepted)
    assert {code for code, _ in stopped.values()} == {0}, stopped


async def _roll(
    env: dict[str, str],
    token: str,
    processes: dict[str, Process],
    stopped: dict[str, tuple[int, str]],
    channels: Channels,
) -> Police:
    first = f"http://127.0.0.1:{env['LANTERN_PORT']}"
    await until_healthy(first, timeout=STARTING_S)
    police, stop = Police([first], token), asyncio.Event()
    posting = asyncio.create_task(police.stream(stop))
    try:
        want = RECIPIENTS * 2  # the first reports, all the way through
        await eventually(lambda: channels.sent() >= want, timeout=STARTING_S)

        # intake: the new copy is up on its own port and in the load balancer's
        # list before the old one stops; the old one leaves the list once it is gone.
        port = str(free_port())
        new = lantern("intake", "--port", port, env={**env, "LANTERN_PORT": port})
        await until_healthy(f"http://127.0.0.1:{port}", timeout=STARTING_S)
        police.intakes.append(f"http://127.0.0.1:{port}")
        old, processes["intake"] = processes["intake"], new
        stopped["intake"] = (await asyncio.to_thread(terminate, old), log_of(old))
        police.intakes.remove(first)

        # the workers: a graceful stop, then a new copy, started before the next.
        for name, started in STARTED.items():
            old = processes[name]
            stopped[name] = (await asyncio.to_thread(terminate, old), log_of(old))
            processes[name] = lantern(name, env=env)
            await _logged(processes[name], started)
    finally:
        stop.set()
        await posting

    with contextlib.suppress(AssertionError):  # the test then says what is missing
        await eventually(
            lambda: channels.sent() >= RECIPIENTS * len(police.accepted),
            timeout=60 + len(police.accepted),  # a report a second, on a busy machine
        )
    return police


async def _logged(process: Process, line: str) -> None:
    """Once the process has logged ``line`` (anywhere in its log: a busy one's tail
    has moved past it soon)."""

    def logged() -> bool:
        return line in LOGS[process.pid].read_text(errors="replace")

    await eventually(logged, timeout=STARTING_S, what=line)


def _setup(env: dict[str, str], folder: Path, hooks: str) -> str:
    """Ada, the recipients and a police client, by the commands, in this process
    (a process each would cost seconds of start for nothing). The police's token."""
    (folder / "children.csv").write_text(CHILD)
    (folder / "recipients.csv").write_text(recipients(hooks))
    for args in (
        ("children", "import", str(folder / "children.csv")),
        ("recipients", "import", str(folder / "recipients.csv")),
        ("clients", "create", "--name", "kent", "--role", "police", "--force", "KENT"),
    ):
        done = CliRunner().invoke(cli, list(args), env=env)
        assert done.exit_code == 0, done.output
    return done.stdout.strip().splitlines()[-1]
