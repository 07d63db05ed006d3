"""Fault drill: reports at a steady 10/s through Lantern's processes on PostgreSQL and
Kafka while faults are done to them one at a time; for each fault, how many reports
were accepted, how many alert messages reached the channel servers, how many were
lost or sent twice, and the longest time from a report's acceptance to its message.

Not a test: a drill on infrastructure of its own. It starts its OWN PostgreSQL cluster
(15/drill on 127.0.0.1:5433, ``deploy/local/postgres.sh`` with ``LANTERN_PG_CLUSTER``,
``LANTERN_PG_PORT``) and its OWN Kafka broker (127.0.0.1:9192, controller 9193, data in
``~/.cache/lantern/kafka-drill``, ``deploy/local/kafka.sh`` with ``LANTERN_KAFKA_PORT``,
``LANTERN_KAFKA_CONTROLLER_PORT``, ``LANTERN_KAFKA_DATA``), because it restarts both:
the shared ones on 5432 and 9092 are never touched. Both are stopped at the end.

Lantern: ``lantern intake``, ``triage``, ``notifier`` and ``relay`` as processes, with
production's timings (a notifier's lease of 90 s, Kafka sessions of 10 s, channel
timeouts of 10 s), supervised: a process that exits is started again at once, and
the exit is counted. The reference sources run as their own process (``lantern
sources serve``). The channel servers run in this process on loopback: an SMTP inbox
(aiosmtpd), the GOV.UK Notify stand-in and a partner's webhook endpoint.

Every report is of a child the directory does not know, placed by another council
(202), whom the reference sources score high. Each yields three alert messages, one
per recipient on its own channel: the duty team by e-mail (SMTP), the police
exploitation team (MCET) by webhook, the home authority by SMS (Notify). A message is
matched to its report by ``KENT/<ref>`` in its subject and told apart by its
idempotency key (``Message-ID``, ``Idempotency-Key``, Notify ``reference``), the same
on every resend of one message. Updates, escalations and failure notices are not
counted: only the first message of each alert (subject ``Lantern: child missing ...``).

The poster sends at the rate without pause, as police systems would, and retries a
report whose POST fails to connect, times out or answers 5xx or 429 (after 1 s,
doubling to 8 s) until it is accepted (2xx). Each fault has a window of its own:
the reports posted in it are its reports. Kills (SIGKILL, then started again at once, as
a supervisor would) and restarts come ``--lead-s`` into the window; an outage (the
sources' process stopped, the SMTP server stopped, for ``--outage-s``, 120 s) begins
then, and the window lasts until ``--tail-s`` after it ends. After the last window, the
drill waits up to ``--drain-s`` for every expected message, and stops waiting once
every one still missing is ``failed`` in Lantern's ``deliveries`` (it will not come).

Per fault: reports accepted; messages delivered (of 3 per report); lost: expected
messages that had not arrived by the end of the drain; duplicated: a (report,
recipient, channel) told under two or more idempotency keys (a receiver dropping repeats
would still show both); repeats: the same message again under its key (dropped by a
receiver that drops repeats, as the docs ask); the longest delay from a report's 2xx to
the first arrival of each of its messages (and the p50). The table goes to stdout and,
with every lost or duplicated message named, to ``artifacts/fault-drill-<time>.json``;
the processes' logs to ``artifacts/fault-drill-<time>/``.

    .venv/bin/python -m bench.fault_drill [--minutes-per-fault M] [--outage-s S]
        [--faults none,kill-intake,...] [--rate R] [--drain-s S]
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI, Request, Response

from bench.common import conditions, percentile, plain_dsn, print_table, quiet_logs
from bench.notifier import a_report
from events.store.migrate import upgrade
from services.notifier.channels.webhook import verify_signature
from tests.e2e.processes import LANTERN, free_port, run_lantern, until_healthy
from tests.kafka_reader import delete_topics
from tests.notify_server import serve_app, serve_notify

ROOT = Path(__file__).resolve().parent.parent
PG_VERSION, PG_CLUSTER, PG_PORT = "15", "drill", 5433
KAFKA_PORT, KAFKA_CONTROLLER_PORT = 9192, 9193
KAFKA = f"127.0.0.1:{KAFKA_PORT}"
KAFKA_DATA = Path.home() / ".cache" / "lantern" / "kafka-drill"
INFRA_ENV = {
    "LANTERN_PG_CLUSTER": PG_CLUSTER,
    "LANTERN_PG_PORT": str(PG_PORT),
    "LANTERN_KAFKA_PORT": str(KAFKA_PORT),
    "LANTERN_KAFKA_CONTROLLER_PORT": str(KAFKA_CONTROLLER_PORT),
    "LANTERN_KAFKA_DATA": str(KAFKA_DATA),
}

RATE = 10.0
WEBHOOK_SECRET = "whsec-for-the-drill-only-0123456789abcdef"  # noqa: S105
SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
NOTIFY_SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"  # noqa: S105
SMS_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
DUTY_EMAIL = "duty@council.example"
HOME_PHONE = "07700900123"
EXPECTED = (("duty", "email"), ("mcet", "webhook"), ("la-202", "sms"))
RECIPIENTS = (
    "recipient_id,kind,key,name,email,phone,webhook_url\n"
    f"duty,duty_team,,Duty team,{DUTY_EMAIL},,\n"
    "mcet,mcet,,Police MCET,,,{hooks}/mcet\n"
    f"la-202,la_contact,202,Camden missing children,,{HOME_PHONE},\n"
)
SUBJECT_REF = re.compile(r"\(KENT/([^)\s]+)\)")
WORKERS = {"intake": None, "triage": None, "notifier": None, "relay": None}
FAULTS = (
    "none",
    "kill-intake",
    "kill-triage",
    "kill-notifier",
    "kill-relay",
    "restart-postgres",
    "restart-kafka",
    "source-down",
    "smtp-down",
)
OUTAGES = {"source-down", "smtp-down"}
STARTUP_S = 300.0  # a loaded machine takes its time to start a process


# -- what the channel servers received --------------------------------------------


@dataclass(frozen=True)
class Arrival:
    wall: float
    channel: str
    recipient: str
    ref: str | None
    alert: bool  # the first message of an alert (not an update, escalation, notice)
    key: str
    subject: str  # never names the child


def _arrival(channel: str, recipient: str, subject: str, key: str) -> Arrival:
    subject = subject.strip()  # a folded Subject header unfolds with a space first
    found = SUBJECT_REF.search(subject)
    return Arrival(
        time.time(), channel, recipient, found.group(1) if found else None,
        subject.startswith("Lantern: child "), key, subject,
    )  # fmt: skip


@dataclass
class Channels:
    """The SMTP inbox, the Notify stand-in and the webhook endpoint, recording
    every message they accept."""

    arrivals: list[Arrival] = field(default_factory=list)
    bad_signatures: int = 0
    smtp_port: int = 0
    _smtp: Controller | None = None

    # SMTP: an aiosmtpd handler, in the controller's thread (list.append is atomic)
    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        assert isinstance(envelope.content, bytes)
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        to = str(mail["To"])
        recipient = "duty" if DUTY_EMAIL in to else to
        self.arrivals.append(
            _arrival("email", recipient, str(mail["Subject"]), str(mail["Message-ID"]))
        )
        return "250 Message accepted for delivery"

    def smtp_up(self) -> None:
        self.smtp_port = self.smtp_port or free_port()
        self._smtp = Controller(self, hostname="127.0.0.1", port=self.smtp_port)
        self._smtp.start()

    def smtp_down(self) -> None:
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None

    def webhooks(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks/{name}")
        async def hook(name: str, request: Request) -> Response:
            body = await request.body()
            signature = request.headers.get("lantern-signature")
            if not verify_signature(WEBHOOK_SECRET, signature, body):
                self.bad_signatures += 1
            document = json.loads(body)
            key = request.headers.get("idempotency-key", "")
            self.arrivals.append(
                _arrival("webhook", name, document.get("subject", ""), key)
            )
            return Response(status_code=204)

        return app


async def _watch_notify(received: list[Any], channels: Channels) -> None:
    """The Notify stand-in keeps what it accepted, without a time: stamp each as it
    shows up (every 50 ms)."""
    seen = 0
    while True:
        for r in received[seen:]:
            phone = r.body.get("phone_number", "")
            subject = r.body.get("personalisation", {}).get("subject", "")
            recipient = "la-202" if phone[-9:] == HOME_PHONE[-9:] else phone
            channels.arrivals.append(
                _arrival("sms", recipient, subject, r.body.get("reference", ""))
            )
        seen = len(received)
        await asyncio.sleep(0.05)


# -- infrastructure of the drill's own ----------------------------------------------


def _script(name: str, *args: str) -> str:
    done = subprocess.run(
        [str(ROOT / "deploy" / "local" / name), *args],
        env={**os.environ, **INFRA_ENV}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"{name} {' '.join(args)}: {done.stderr[-2000:]}")
    return done.stdout.strip()


def _pg_ctl(action: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", PG_VERSION, PG_CLUSTER, action],
        check=True, capture_output=True,
    )  # fmt: skip


async def _admin(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(plain_dsn(dsn))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def own_infrastructure() -> AsyncIterator[str]:
    """Its own PostgreSQL cluster and Kafka broker, and a fresh database on it;
    yields the database's URL. Both are stopped afterwards (their data kept)."""
    server = await asyncio.to_thread(_script, "postgres.sh")
    await asyncio.to_thread(_script, "kafka.sh", "start")
    name = f"drill_{uuid.uuid4().hex[:12]}"
    await _admin(server, f"CREATE DATABASE {name}")
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        try:
            await _admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await asyncio.to_thread(_script, "kafka.sh", "stop")
            await asyncio.to_thread(_pg_ctl, "stop")


# -- Lantern's processes, supervised ----------------------------------------------


@dataclass
class Supervisor:
    """Starts ``lantern`` commands, each with its own log file under ``logs``, and
    starts again at once any that exits without being told to (counted in
    ``exits``)."""

    env: dict[str, str]
    logs: Path
    commands: dict[str, tuple[str, ...]]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    exits: list[tuple[float, str, int]] = field(default_factory=list)
    held: set[str] = field(default_factory=set)  # stopped on purpose

    def start(self, name: str) -> None:
        self.starts[name] += 1
        log = self.logs / f"{name}-{self.starts[name]}.log"
        with log.open("wb") as out:
            self.processes[name] = subprocess.Popen(
                [LANTERN, *self.commands[name]], env={**os.environ, **self.env},
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def kill(self, name: str) -> None:
        """SIGKILL, then start again at once, as a supervisor would."""
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.start(name)

    async def stop(self, name: str) -> None:
        self.held.add(name)
        process = self.processes[name]
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 30)

    def resume(self, name: str) -> None:
        self.held.discard(name)
        self.start(name)

    async def watch(self) -> None:
        while True:
            for name, process in list(self.processes.items()):
                code = process.poll()
                if code is not None and name not in self.held:
                    self.exits.append((time.time(), name, code))
                    print(f"  {name} exited {code}: started again", flush=True)
                    self.start(name)
            await asyncio.sleep(0.5)

    async def stop_all(self) -> dict[str, int]:
        codes = {}
        for name, process in self.processes.items():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    codes[name] = await asyncio.to_thread(process.wait, 60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    codes[name] = -9
        return codes


# -- the police systems -------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    ref: str
    phase: str
    accepted: float  # wall time of the 2xx
    tries: int
    episode_id: str


@dataclass
class Poster:
    """Reports at ``rate`` without pause, each tried until accepted."""

    http: httpx.AsyncClient
    base: str
    token: str
    rate: float
    tag: str
    phase: str = "warm-up"
    sent: list[Sent] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    retried: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # A police system has a few connections, not one per report waiting: reports
    # wait their turn here (httpx's pool slows down with thousands queued in it).
    _in_flight: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(32))

    async def run(self, stop: asyncio.Event) -> None:
        start, n = time.perf_counter(), 0
        while not stop.is_set():
            ref = f"DRILL-{self.tag}-{n}"
            task = asyncio.create_task(self._post(ref, self.phase))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            n += 1
            delay = start + n / self.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)

    async def settle(self) -> None:
        while self._tasks:
            await asyncio.gather(*self._tasks)

    async def _post(self, ref: str, phase: str) -> None:
        wait, tries = 1.0, 0
        # Placed by Camden (202): her home authority is told too. A retry sends the
        # same report, as police systems do.
        body = a_report(ref, placing_authority="202")
        while True:
            tries += 1
            try:
                async with self._in_flight:
                    response = await self.http.post(
                        f"{self.base}/v1/missing-reports", json=body,
                        headers={"Authorization": f"Bearer {self.token}"},
                    )  # fmt: skip
            except httpx.TransportError as error:
                why = type(error).__name__
            else:
                if response.is_success:
                    episode = str(response.json()["episode_id"])
                    self.sent.append(Sent(ref, phase, time.time(), tries, episode))
                    return
                why = str(response.status_code)
                if response.status_code < 500 and response.status_code != 429:
                    self.refused.append((ref, f"{why} {response.text[:200]}"))
                    return
            self.retried[f"{phase}: {why}"] += 1
            await asyncio.sleep(wait)
            wait = min(wait * 2, 8.0)


# -- one drill ---------------------------------------------------------------------


def _env(
    url: str, port: int, sources_port: int, smtp_port: int, notify: str
) -> dict[str, str]:
    return {
        "LANTERN_DATABASE_URL": url,
        "LANTERN_KAFKA_BOOTSTRAP_SERVERS": KAFKA,
        "LANTERN_KAFKA_TOPIC_PREFIX": f"drill{uuid.uuid4().hex[:8]}.",
        "LANTERN_PORT": str(port),
        "LANTERN_LOG_LEVEL": "warning",
        "LANTERN_RATE_LIMIT_PER_MINUTE": "100000000",
        "LANTERN_RATE_LIMIT_BURST": "100000",
        **{
            f"LANTERN_SOURCES__{name.upper()}__BASE_URL": (
                f"http://127.0.0.1:{sources_port}/{name}"
            )
            for name in ("youth_justice", "cme", "cse")
        },
        "LANTERN_CHANNELS__EMAIL__HOST": "127.0.0.1",
        "LANTERN_CHANNELS__EMAIL__PORT": str(smtp_port),
        "LANTERN_CHANNELS__EMAIL__STARTTLS": "false",
        "LANTERN_CHANNELS__EMAIL__FROM_ADDRESS": "lantern@council.example",
        "LANTERN_CHANNELS__NOTIFY__BASE_URL": notify,
        "LANTERN_CHANNELS__NOTIFY__API_KEY": f"drill-{SERVICE_ID}-{NOTIFY_SECRET}",
        "LANTERN_CHANNELS__NOTIFY__SMS_TEMPLATE_ID": SMS_TEMPLATE,
        "LANTERN_CHANNELS__WEBHOOK__SECRET": WEBHOOK_SECRET,
        "LANTERN_CHANNELS__WEBHOOK__ALLOWED_HOSTS": "127.0.0.1",
        "LANTERN_NOTIFIER_LINK_SECRET": "a-link-secret-for-the-drill-only-0123",
    }


def _setup(env: dict[str, str], folder: Path, hooks: str) -> str:
    """Recipients and a police client; returns the client's token."""
    recipients = folder / "recipients.csv"
    recipients.write_text(RECIPIENTS.replace("{hooks}", hooks))
    done = run_lantern("recipients", "import", str(recipients), env=env)
    if done.returncode:
        raise RuntimeError(f"lantern recipients import: {done.stderr}")
    created = run_lantern(
        "clients", "create", "--name", "drill", "--role", "police", "--force", "KENT",
        env=env,
    )  # fmt: skip
    if created.returncode:
        raise RuntimeError(f"lantern clients create: {created.stderr}")
    return created.stdout.strip().splitlines()[-1]


@dataclass(frozen=True)
class Window:
    fault: str
    began: float
    ended: float
    fault_at: float
    fault_done: float


@dataclass
class Drill:
    supervisor: Supervisor
    channels: Channels
    poster: Poster
    base: str
    sources_base: str
    lead_s: float
    tail_s: float
    window_s: float
    outage_s: float
    windows: list[Window] = field(default_factory=list)

    async def phase(self, fault: str) -> None:
        self.poster.phase = fault
        began = time.time()
        length = self.window_s
        if fault in OUTAGES:
            length = max(length, self.lead_s + self.outage_s + self.tail_s)
        await asyncio.sleep(self.lead_s)
        fault_at = time.time()
        print(f"{datetime.now(UTC):%H:%M:%S} {fault}", flush=True)
        await self._do(fault)
        fault_done = time.time()
        left = began + length - time.time()
        if left > 0:
            await asyncio.sleep(left)
        self.windows.append(Window(fault, began, time.time(), fault_at, fault_done))

    async def _do(self, fault: str) -> None:
        s = self.supervisor
        if fault.startswith("kill-"):
            s.kill(fault.removeprefix("kill-"))
            if fault == "kill-intake":
                await until_healthy(self.base, timeout=STARTUP_S)
        elif fault == "restart-postgres":
            await asyncio.to_thread(_pg_ctl, "restart")
        elif fault == "restart-kafka":
            await asyncio.to_thread(_script, "kafka.sh", "restart")
        elif fault == "source-down":
            await s.stop("sources")
            await asyncio.sleep(self.outage_s)
            s.resume("sources")
            await until_healthy(self.sources_base, timeout=STARTUP_S)
        elif fault == "smtp-down":
            self.channels.smtp_down()
            await asyncio.sleep(self.outage_s)
            self.channels.smtp_up()


@dataclass
class Figures:
    fault: str
    reports: int
    expected: int
    delivered: int
    lost: int
    gave_up: int  # of the lost, those Lantern had marked failed (the rest: late)
    duplicated: int
    repeats: int
    longest_s: float
    p50_s: float
    retried_posts: int
    exits: list[str]
    lost_messages: list[str]
    duplicated_messages: list[str]


async def _delivery_states(url: str) -> dict[tuple[str, str], str]:
    """Where Lantern had each alert's first message at the end: (episode, recipient)
    to the delivery's status (``failed``: it gave up)."""
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        rows = await conn.fetch(
            "SELECT a.episode_id, a.recipient_id, d.status FROM alerts a"
            " JOIN deliveries d ON d.alert_id = a.alert_id"
            " WHERE d.kind = 'alert' AND a.matter IS NULL"
        )
    finally:
        await conn.close()
    return {(str(r["episode_id"]), r["recipient_id"]): r["status"] for r in rows}


def figures(drill: Drill, states: dict[tuple[str, str], str]) -> list[Figures]:
    by_message: dict[tuple[str, str, str], list[Arrival]] = defaultdict(list)
    for a in drill.channels.arrivals:
        if a.alert and a.ref is not None:
            by_message[(a.ref, a.recipient, a.channel)].append(a)
    out = []
    for w in drill.windows:
        sent = [s for s in drill.poster.sent if s.phase == w.fault]
        delays, lost, duplicated, repeats, gave_up = [], [], [], 0, 0
        for s in sent:
            for recipient, channel in EXPECTED:
                arrivals = by_message.get((s.ref, recipient, channel), [])
                if not arrivals:
                    state = states.get((s.episode_id, recipient), "no alert raised")
                    lost.append(f"{s.ref} {recipient} {channel} ({state})")
                    gave_up += state == "failed"
                    continue
                delays.append(min(a.wall for a in arrivals) - s.accepted)
                keys = {a.key for a in arrivals}
                if len(keys) > 1:
                    duplicated.append(f"{s.ref} {recipient} {channel} {sorted(keys)}")
                repeats += len(arrivals) - len(keys)
        exits = [
            f"{name} exited {code} at +{at - w.began:.0f} s"
            for at, name, code in drill.supervisor.exits
            if w.began <= at < w.ended
        ]
        out.append(
            Figures(
                fault=w.fault,
                reports=len(sent),
                expected=len(EXPECTED) * len(sent),
                delivered=len(delays),
                lost=len(lost),
                gave_up=gave_up,
                duplicated=len(duplicated),
                repeats=repeats,
                longest_s=max(delays, default=0.0),
                p50_s=percentile(delays, 50) if delays else 0.0,
                retried_posts=sum(
                    n for k, n in drill.poster.retried.items()
                    if k.startswith(f"{w.fault}: ")
                ),
                exits=exits,
                lost_messages=lost,
                duplicated_messages=duplicated,
            )
        )  # fmt: skip
    return out


async def _drained(drill: Drill, url: str, timeout: float) -> bool:
    """Wait until every expected message has arrived or Lantern has given it up
    (its delivery ``failed``: it will not come), at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    checked = 0.0
    while True:
        got = {
            (a.ref, a.recipient, a.channel) for a in drill.channels.arrivals if a.alert
        }
        waiting = [
            (s.episode_id, r)
            for s in drill.poster.sent
            if s.phase in {w.fault for w in drill.windows}
            for r, c in EXPECTED
            if (s.ref, r, c) not in got
        ]
        if not waiting:
            return True
        if time.monotonic() > deadline:
            return False
        if time.monotonic() - checked > 10:
            checked = time.monotonic()
            states = await _delivery_states(url)
            if all(states.get(w) == "failed" for w in waiting):
                return True
        await asyncio.sleep(0.5)


async def _until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)
    return True


async def run(
    args: argparse.Namespace, out: Path
) -> tuple[list[Figures], dict[str, Any]]:
    channels = Channels()
    logs = out.with_suffix("")
    logs.mkdir(parents=True, exist_ok=True)
    async with (
        own_infrastructure() as url,
        serve_notify(SERVICE_ID, NOTIFY_SECRET, templates={SMS_TEMPLATE}) as notify,
        serve_app(channels.webhooks()) as hooks_root,
        httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=32)) as http,
    ):
        channels.smtp_up()
        port, sources_port = free_port(), free_port()
        env = _env(url, port, sources_port, channels.smtp_port, notify.base_url)
        token = _setup(env, logs, f"{hooks_root}/hooks")
        commands = {
            "sources": ("sources", "serve", "--port", str(sources_port)),
            "intake": ("intake", "--port", str(port)),
            "triage": ("triage",),
            "notifier": ("notifier",),
            "relay": ("relay",),
        }
        supervisor = Supervisor(env, logs, commands)
        base = f"http://127.0.0.1:{port}"
        sources_base = f"http://127.0.0.1:{sources_port}"
        poster = Poster(http, base, token, args.rate, uuid.uuid4().hex[:6])
        drill = Drill(
            supervisor, channels, poster, base, sources_base, args.lead_s,
            args.tail_s, args.minutes_per_fault * 60, args.outage_s,
        )  # fmt: skip
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        drained = False
        try:
            for name in commands:
                supervisor.start(name)
            await until_healthy(base, timeout=STARTUP_S)
            await until_healthy(sources_base, timeout=STARTUP_S)
            tasks.append(asyncio.create_task(supervisor.watch()))
            tasks.append(
                asyncio.create_task(_watch_notify(notify.state.received, channels))
            )
            # warm-up: the first reports' messages arrive before any fault
            posting = asyncio.create_task(poster.run(stop))
            warmed = await _until(
                lambda: sum(a.alert for a in channels.arrivals) >= 3 * len(EXPECTED),
                timeout=120,
            )
            if not warmed:
                raise RuntimeError("warm-up: no messages arrived in 120 s")
            for fault in args.faults:
                await drill.phase(fault)
            stop.set()
            await posting
            print(f"{datetime.now(UTC):%H:%M:%S} draining", flush=True)
            await poster.settle()
            drained = await _drained(drill, url, args.drain_s)
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            codes = await supervisor.stop_all()
            channels.smtp_down()
            await delete_topics(KAFKA, env["LANTERN_KAFKA_TOPIC_PREFIX"])
        try:
            states = await _delivery_states(url)
        except Exception as error:  # the figures matter more
            print(f"could not read the deliveries: {error!r}")
            states = {}
    extra = {
        "drained": drained,
        "exit_codes_at_the_end": codes,
        "refused": poster.refused[:20],
        "bad_signatures": channels.bad_signatures,
        "retried_posts": dict(poster.retried),
        "logs": str(logs),
        "arrivals": [asdict(a) for a in channels.arrivals],
    }
    return figures(drill, states), extra


def _print(results: list[Figures], args: argparse.Namespace) -> None:
    rows = [
        [
            f.fault, f.reports, f"{f.delivered}/{f.expected}",
            f"{f.lost} ({f.gave_up} failed)", f.duplicated,
            f.repeats, f"{f.longest_s:.1f}", f"{f.p50_s:.1f}", f.retried_posts,
            "; ".join(f.exits) or "-",
        ]
        for f in results
    ]  # fmt: skip
    print_table(
        f"fault drill: {args.rate:g} reports/s, a window of "
        f"{args.minutes_per_fault:g} min per fault (outages {args.outage_s:g} s); "
        "3 alert messages per report (e-mail, webhook, SMS)",
        [
            "fault", "reports accepted", "messages delivered", "lost (failed)",
            "duplicated",
            "repeats (same key)", "longest delay s", "p50 delay s", "POST retries",
            "exits (restarted)",
        ],
        rows,
    )  # fmt: skip
    for f in results:
        for m in f.lost_messages[:10]:
            print(f"  {f.fault}: lost {m}")
        for m in f.duplicated_messages[:10]:
            print(f"  {f.fault}: duplicated {m}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=RATE, help="reports/s [10]")
    parser.add_argument(
        "--minutes-per-fault", type=float, default=1.0,
        help="each fault's window; an outage's is longer when it needs [1]",
    )  # fmt: skip
    parser.add_argument("--outage-s", type=float, default=120.0, help="[120]")
    parser.add_argument(
        "--lead-s", type=float, default=20.0, help="into a window, the fault [20]"
    )
    parser.add_argument(
        "--tail-s", type=float, default=20.0, help="after an outage, reports [20]"
    )
    parser.add_argument(
        "--drain-s", type=float, default=300.0,
        help="after the last window, the longest wait for messages [300]",
    )  # fmt: skip
    parser.add_argument(
        "--faults", type=lambda s: s.split(","), default=list(FAULTS),
        help=f"comma-separated, in order [{','.join(FAULTS)}]",
    )  # fmt: skip
    args = parser.parse_args()
    unknown = set(args.faults) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    quiet_logs()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "artifacts" / f"fault-drill-{stamp}.json"
    with conditions("fault drill"):
        results, extra = await run(args, out)
    _print(results, args)
    if not extra["drained"]:
        print(f"\nnot every message arrived within {args.drain_s:g} s of the drain")
    out.write_text(
        json.dumps(
            {
                "taken": stamp,
                "arguments": vars(args),
                "figures": [asdict(f) for f in results],
                **extra,
            },
            indent=2,
        )
    )
    print(f"\nfigures: {out.relative_to(ROOT)}; logs: {extra['logs']}")


if __name__ == "__main__":
    asyncio.run(main())
