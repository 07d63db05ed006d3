"""Notifier: latency from a report's 202 to the webhook message accepted by a loopback
partner endpoint, p50/p99/max, at a steady 50 reports/s (``--rate``) for 20 s.

Every report is of a child the directory does not know (no children imported) whom the
reference sources score high: each one becomes two alerts, to the duty team and to the
police MCET, both on webhooks to a receiver served by this process, which verifies the
signature and takes ``time.perf_counter()`` when a POST arrives. A message is matched
to its report by the police reference in its subject (``KENT/<ref>``); latency is its
arrival minus the time the report's 202 came back. Triage asks the three reference
sources (loopback, answering at once) for every report: that is part of the path.

Embedded: ``lantern run`` on a SQLite file. The reference sources' stand-ins run as
their own process (``lantern sources serve``) in both modes, as outside systems would:
mounted in ``lantern run`` (its dev default) they would share its one core.

Kafka: PostgreSQL and Kafka, with ``lantern intake``, ``triage``, ``notifier``,
``relay`` and ``sources serve`` as separate processes (two relay hops: the report to
triage, the assessment to the notifier).

Each run starts from a fresh database (and topic prefix), imports the recipients,
creates a police client, sends a few unmeasured reports until their messages arrive
(topics created and discovered, connections open), then 2 s of reports at the rate,
also unmeasured (the first second of load finds statement caches and pools cold: its
p99 is printed with each run, not counted), then the measured load. Where the
time goes comes from the store afterwards: the wall time each report's 202 came back,
the ``recorded_at`` of its ``RiskAssessed`` (triage) and of each ``AlertRaised`` (the
notifier's handler), and the message's arrival (the dispatcher and the webhook POST).

    .venv/bin/python -m bench.notifier [--quick] [--runs N] [--rate N]
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from fastapi import FastAPI, Request, Response

from bench.common import (
    KAFKA,
    arguments,
    conditions,
    fresh_postgres,
    fresh_sqlite,
    paced,
    percentile,
    print_table,
    quiet_logs,
    spread,
    topic_prefix,
)
from events.contracts.alerts import AlertRaised, AlertSendAttempted
from events.contracts.triage import RiskAssessed
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from services.notifier.channels.webhook import verify_signature
from tests.e2e.processes import (
    LOGS,
    free_port,
    lantern,
    log_of,
    run_lantern,
    terminate,
    until_healthy,
)
from tests.kafka_reader import delete_topics
from tests.notify_server import serve_app

RATE = 50.0
WARMUP = 5
RAMP_S = 2.0
"""Unmeasured seconds at the rate before the measured ones: the first second of load
finds statement caches and pools cold (its p99 is printed with each run)."""
START_S = 300.0
"""How long the processes may take to answer /health: on a busy machine, with no
``.pyc`` files written, five processes compiling Lantern at once took over 90 s."""
HOOKS = ("duty", "mcet")  # one message to each per report
SECRET = "whsec-for-the-bench-only-0123456789abcdef"  # noqa: S105
GOALS_MS = {"embedded": 250.0, "kafka": 500.0}
STAGES = ("triage", "handler", "claim", "send")
SUBJECT_REF = re.compile(r"\(KENT/([^)\s]+)\)")


def _recipients(hooks: str) -> str:
    return (
        "recipient_id,kind,key,name,email,phone,webhook_url\n"
        f"duty,duty_team,,Duty team,,,{hooks}/duty\n"
        f"mcet,mcet,,Police MCET,,,{hooks}/mcet\n"
    )


def a_report(reference: str, placing_authority: str = "886") -> dict[str, Any]:
    """Ada, whom the reference sources score high; not in the directory (unmatched).
    Placed by another council (``placing_authority``), her home authority is told."""
    now = datetime.now(UTC)
    return {
        "police_force": "KENT",
        "police_reference": reference,
        "reported_at": (now - timedelta(hours=1)).isoformat(),
        "missing_since": (now - timedelta(hours=3)).isoformat(),
        "episode_type": "missing",
        "police_risk_grade": "low",
        "child": {
            "la_child_id": "FICT0001",
            "given_name": "Ada",
            "family_name": "Fictitious",
            "date_of_birth": "2009-03-14",
            "gender": "female",
        },
        "placement": {
            "placing_authority": placing_authority,
            "placement_type": "childrens_home",
        },
    }


# -- the partner's endpoint ----------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    at: float  # perf_counter
    wall: float  # time.time()
    hook: str
    key: str  # Idempotency-Key: the same for every resend of one message
    alert_id: str
    kind: str
    ref: str | None
    valid: bool


@dataclass
class Hooks:
    arrivals: list[Arrival] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks/{name}")
        async def hook(name: str, request: Request) -> Response:
            at, wall = time.perf_counter(), time.time()
            body = await request.body()
            valid = verify_signature(
                SECRET, request.headers.get("lantern-signature"), body
            )
            document = json.loads(body)
            found = SUBJECT_REF.search(document.get("subject", ""))
            self.arrivals.append(
                Arrival(
                    at, wall, name,
                    request.headers.get("idempotency-key", ""),
                    document.get("alert_id", ""), document.get("kind", ""),
                    found.group(1) if found else None, valid,
                )
            )  # fmt: skip
            return Response(status_code=204)

        return app

    def of(self, refs: set[str]) -> list[Arrival]:
        return [a for a in self.arrivals if a.ref in refs]


# -- Lantern, embedded or as separate processes --------------------------------------


@dataclass
class Lab:
    """A running Lantern: where to post, its database, and how to stop it."""

    base: str
    url: str
    token: str
    processes: dict[str, subprocess.Popen[bytes]]

    async def stop(self) -> list[str]:
        """SIGTERM every process; the name and log tail of any that did not exit 0."""
        failed = []
        for name, process in self.processes.items():
            if process.poll() is None:
                code = await asyncio.to_thread(terminate, process)
            else:
                code = process.returncode
            if code != 0:
                failed.append(f"{name} exited {code}:\n{log_of(process)[-1500:]}")
        for process in self.processes.values():
            LOGS.pop(process.pid).unlink(missing_ok=True)
        self.processes = {}
        return failed


def _common_env(url: str, port: int) -> dict[str, str]:
    return {
        "LANTERN_DATABASE_URL": url,
        "LANTERN_PORT": str(port),
        "LANTERN_LOG_LEVEL": "warning",
        "LANTERN_RATE_LIMIT_PER_MINUTE": "100000000",  # one client sends 50/s
        "LANTERN_RATE_LIMIT_BURST": "100000",
        "LANTERN_CHANNELS__WEBHOOK__SECRET": SECRET,
        "LANTERN_CHANNELS__WEBHOOK__ALLOWED_HOSTS": "127.0.0.1",  # the receiver
        "LANTERN_NOTIFIER_LINK_SECRET": "a-link-secret-for-the-bench-only-0123",
    }


def _setup(env: dict[str, str], hooks: str) -> str:
    """Recipients and a police client; returns the client's token."""
    with tempfile.TemporaryDirectory(prefix="bench_") as folder:
        recipients = Path(folder) / "recipients.csv"
        recipients.write_text(_recipients(hooks))
        for args in (("db", "upgrade"), ("recipients", "import", str(recipients))):
            done = run_lantern(*args, env=env)
            if done.returncode:
                raise RuntimeError(f"lantern {' '.join(args)}: {done.stderr}")
    created = run_lantern(
        "clients", "create", "--name", "bench", "--role", "police", "--force", "KENT",
        env=env,
    )  # fmt: skip
    if created.returncode:
        raise RuntimeError(f"lantern clients create: {created.stderr}")
    return created.stdout.strip().splitlines()[-1]


def _sources_env(port: int) -> dict[str, str]:
    """The three reference sources at their stand-ins' address."""
    return {
        f"LANTERN_SOURCES__{name.upper()}__BASE_URL": f"http://127.0.0.1:{port}/{name}"
        for name in ("youth_justice", "cme", "cse")
    }


def _sources(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The reference sources' stand-ins: outside systems, so a process of their own."""
    return lantern("sources", "serve", "--port", str(port), env=env)


@asynccontextmanager
async def embedded(hooks: str) -> AsyncIterator[Lab]:
    async with fresh_sqlite() as url:
        port, sources_port = free_port(), free_port()
        env = {**_common_env(url, port), **_sources_env(sources_port)}
        token = _setup(env, hooks)
        lab = Lab(f"http://127.0.0.1:{port}", url, token, {})
        try:
            lab.processes["sources"] = _sources(sources_port, env)
            lab.processes["run"] = lantern("run", "--port", str(port), env=env)
            await until_healthy(f"http://127.0.0.1:{sources_port}", timeout=START_S)
            await until_healthy(lab.base, timeout=START_S)
            yield lab
        finally:
            await lab.stop()


@asynccontextmanager
async def kafka(hooks: str) -> AsyncIterator[Lab]:
    async with fresh_postgres() as url:
        port, sources_port = free_port(), free_port()
        prefix = topic_prefix()
        env = {
            **_common_env(url, port),
            "LANTERN_KAFKA_BOOTSTRAP_SERVERS": KAFKA,
            "LANTERN_KAFKA_TOPIC_PREFIX": prefix,
            # groups of its own: a process of another run or test joining or
            # leaving "triage" or "notifier" on the same broker paused these
            "LANTERN_KAFKA_GROUP_PREFIX": prefix,
            **_sources_env(sources_port),
        }
        token = _setup(env, hooks)
        lab = Lab(f"http://127.0.0.1:{port}", url, token, {})
        try:
            lab.processes["sources"] = _sources(sources_port, env)
            for name, args in {
                "intake": ("intake", "--port", str(port)),
                "triage": ("triage",),
                "notifier": ("notifier",),
                "relay": ("relay",),
            }.items():
                lab.processes[name] = lantern(*args, env=env)
            await until_healthy(f"http://127.0.0.1:{sources_port}", timeout=START_S)
            await until_healthy(lab.base, timeout=START_S)
            yield lab
        finally:
            await lab.stop()
            await delete_topics(KAFKA, prefix)


MODES: dict[str, Callable[[str], AbstractAsyncContextManager[Lab]]] = {
    "embedded": embedded,
    "kafka": kafka,
}


# -- one run ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    ref: str
    posted: float  # perf_counter before the POST
    accepted: float  # perf_counter when the 202 came back
    wall: float  # time.time() then
    episode_id: str


@dataclass
class Result:
    reports: int
    refused: int  # answers other than 202
    messages: int  # first arrivals matched to a measured report
    missing: int
    resent: int  # arrivals beyond the first of a message
    invalid: int  # bad signatures
    rate: float  # messages/s, first POST to last message
    latencies: list[float]  # ms, 202 -> arrival
    ramp: list[float]  # the same, of the unmeasured first RAMP_S seconds at the rate
    intake: list[float]  # ms, POST -> 202
    stages: dict[str, list[float]]  # ms, from the store
    failed: list[str]
    cpu: dict[str, float]  # per process: CPU seconds per second of the run (1 = a core)


async def _paced_reports(
    http: httpx.AsyncClient, lab: Lab, name: str, rate: float, seconds: float
) -> tuple[dict[str, Sent], list[str]]:
    """Reports at ``rate`` for ``seconds``: those accepted, and why others were not."""
    refs = [f"{name}-{n}" for n in range(int(rate * seconds))]
    sent_by_ref: dict[str, Sent] = {}
    refused: list[str] = []

    async def fire(i: int) -> None:
        sent, error = await _post(http, lab, refs[i])
        if sent is None:
            refused.append(error)
        else:
            sent_by_ref[sent.ref] = sent

    await paced(rate, len(refs), fire)
    return sent_by_ref, refused


def _latencies(
    sent: dict[str, Sent], first: dict[tuple[str | None, str], Arrival]
) -> list[float]:
    """ms from each report's 202 to each of its messages' first arrival."""
    return [(a.at - sent[a.ref].accepted) * 1000 for a in first.values()]  # type: ignore[index]


async def _until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def _post(http: httpx.AsyncClient, lab: Lab, ref: str) -> tuple[Sent | None, str]:
    posted = time.perf_counter()
    for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile
        try:
            response = await http.post(
                f"{lab.base}/v1/missing-reports",
                json=a_report(ref),
                headers={"Authorization": f"Bearer {lab.token}"},
            )
            break
        except (httpx.ReadError, httpx.RemoteProtocolError):
            if attempt == 2:
                raise
    accepted, wall = time.perf_counter(), time.time()
    if response.status_code != 202:
        return None, f"{response.status_code} {response.text[:200]}"
    episode = response.json()["episode_id"]
    return Sent(ref, posted, accepted, wall, episode), ""


async def one_run(
    mode: str, hooks: Hooks, root: str, rate: float, seconds: float, drain: float
) -> Result:
    tag = uuid.uuid4().hex[:8]
    async with (
        MODES[mode](f"{root}/hooks") as lab,
        httpx.AsyncClient(limits=httpx.Limits(max_connections=200), timeout=60) as http,
    ):
        warm = {f"WARM-{tag}-{n}" for n in range(WARMUP)}
        for ref in sorted(warm):
            sent, error = await _post(http, lab, ref)
            if sent is None:
                raise RuntimeError(f"{mode}: warm-up report refused: {error}")
        if not await _until(
            lambda: len(hooks.of(warm)) >= len(HOOKS) * WARMUP, timeout=120
        ):
            raise RuntimeError(f"{mode}: warm-up messages did not arrive")

        ramp, _ = await _paced_reports(http, lab, f"RAMP-{tag}", rate, RAMP_S)
        await _until(lambda: len(_first(hooks.of(set(ramp)))) >= 2 * len(ramp), drain)
        ramped = _latencies(ramp, _first(hooks.of(set(ramp))))

        cpu_before = _cpu(lab)
        began = time.perf_counter()
        sent_by_ref, refused = await _paced_reports(
            http, lab, f"BENCH-{tag}", rate, seconds
        )
        wanted = set(sent_by_ref)
        await _until(lambda: len(_first(hooks.of(wanted))) >= 2 * len(wanted), drain)
        window = time.perf_counter() - began
        cpu = {n: (t - cpu_before[n]) / window for n, t in _cpu(lab).items()}
        failed = await lab.stop()
        arrivals = hooks.of(wanted)
        first = _first(arrivals)
        stages = await _stages(lab.url, sent_by_ref, first)

    latencies = _latencies(sent_by_ref, first)
    last = max((a.at for a in first.values()), default=began)
    if refused:
        failed.append(f"{len(refused)} reports refused, e.g. {refused[0]}")
    return Result(
        reports=len(sent_by_ref),
        refused=len(refused),
        messages=len(first),
        missing=len(HOOKS) * len(sent_by_ref) - len(first),
        resent=len(arrivals) - len(first),
        invalid=sum(not a.valid for a in arrivals),
        rate=len(first) / (last - began) if last > began else 0.0,
        latencies=latencies,
        ramp=ramped,
        intake=[(s.accepted - s.posted) * 1000 for s in sent_by_ref.values()],
        stages=stages,
        failed=failed,
        cpu=cpu,
    )


def _cpu(lab: Lab) -> dict[str, float]:
    """CPU seconds (user + system) each Lantern process has used so far."""
    used = {}
    for name, process in lab.processes.items():
        times = psutil.Process(process.pid).cpu_times()
        used[name] = times.user + times.system
    return used


def _first(arrivals: Sequence[Arrival]) -> dict[tuple[str | None, str], Arrival]:
    """The first arrival of each (report, recipient)."""
    first: dict[tuple[str | None, str], Arrival] = {}
    for a in arrivals:
        first.setdefault((a.ref, a.hook), a)
    return first


async def _stages(
    url: str, sent: dict[str, Sent], first: dict[tuple[str | None, str], Arrival]
) -> dict[str, list[float]]:
    """Per message, in ms of wall time: the 202 to the report's first RiskAssessed
    (triage), that to the AlertRaised (the notifier's handler), that to the first
    AlertSendAttempted (the dispatcher's claim), that to the arrival (render, POST)."""
    assessed: dict[str, float] = {}
    raised: dict[str, float] = {}
    claimed: dict[str, float] = {}
    store = SqlEventStore(create_engine(url))
    try:
        position = 0
        while page := await store.read_all(after=position, limit=5000):
            position = page[-1].position
            for e in page:
                at = e.recorded_at.timestamp()
                if isinstance(e.event, RiskAssessed):
                    assessed.setdefault(str(e.event.episode_id), at)
                elif isinstance(e.event, AlertRaised):
                    raised[str(e.event.alert_id)] = at
                elif isinstance(e.event, AlertSendAttempted):
                    claimed.setdefault(str(e.event.alert_id), at)
    finally:
        await store.close()
    stages: dict[str, list[float]] = {s: [] for s in STAGES}
    for (ref, _), arrival in first.items():
        report = sent[ref]  # type: ignore[index]
        times = (
            report.wall,
            assessed.get(report.episode_id),
            raised.get(arrival.alert_id),
            claimed.get(arrival.alert_id),
            arrival.wall,
        )
        if None in times:
            continue
        for stage, (a, b) in zip(STAGES, itertools.pairwise(times), strict=True):
            stages[stage].append((b - a) * 1000)  # type: ignore[operator]
    return stages


# -- figures ------------------------------------------------------------------------


def _p(values: Sequence[float], p: float) -> float:
    return percentile(values, p) if values else float("nan")


async def main() -> None:
    parser = arguments(__doc__, runs=3)
    parser.add_argument(
        "--rate", type=float, default=RATE, help=f"reports/s [{RATE:g}]"
    )
    parser.add_argument(
        "--mode", choices=list(MODES), action="append", help="only this one [both]"
    )
    args = parser.parse_args()
    modes = args.mode or list(MODES)
    quiet_logs()
    seconds = 5 if args.quick else 20
    drain = 60 if args.quick else 120
    hooks = Hooks()
    results: dict[str, list[Result]] = {mode: [] for mode in modes}
    with conditions("notifier"):
        async with serve_app(hooks.app()) as root:
            for run in range(args.runs):
                for mode in modes:
                    result = await one_run(mode, hooks, root, args.rate, seconds, drain)
                    results[mode].append(result)
                    print(
                        f"run {run + 1} {mode}: {result.reports} reports, "
                        f"{result.messages} messages, p50 "
                        f"{_p(result.latencies, 50):.0f} ms, p99 "
                        f"{_p(result.latencies, 99):.0f} ms (the unmeasured "
                        f"first {RAMP_S:g} s: p99 {_p(result.ramp, 99):.0f} ms)",
                        flush=True,
                    )
                    for problem in result.failed:
                        print(f"  {mode}: {problem}")
                    hooks.arrivals.clear()
        _print(results, args.rate, seconds, args.runs)


def _print(
    results: dict[str, list[Result]], rate: float, seconds: float, runs: int
) -> None:
    rows = []
    for mode, rs in results.items():
        rows.append(
            [
                mode,
                sum(r.reports for r in rs),
                sum(r.messages for r in rs),
                f"{sum(r.missing for r in rs)} / {sum(r.resent for r in rs)} / "
                f"{sum(r.invalid for r in rs)}",
                spread([r.rate for r in rs], ".1f"),
                spread([_p(r.latencies, 50) for r in rs], ".1f"),
                spread([_p(r.latencies, 99) for r in rs], ".1f"),
                spread([max(r.latencies, default=0.0) for r in rs], ".1f"),
            ]
        )
    print_table(
        f"report 202 -> webhook message, {rate:g} reports/s for {seconds:g} s, "
        f"{runs} runs (all runs' counts; medians of the runs' percentiles)",
        [
            "mode",
            "reports",
            "messages",
            "missing/resent/bad sig",
            "messages/s",
            "p50 ms",
            "p99 ms",
            "max ms",
        ],
        rows,
    )

    def cell(per_run: list[list[float]]) -> str:
        p50 = statistics.median(_p(v, 50) for v in per_run)
        p99 = statistics.median(_p(v, 99) for v in per_run)
        return f"{p50:.1f} / {p99:.1f}"

    print_table(
        "where the time goes, ms p50 / p99 (medians of the runs; stages from the "
        "store's recorded_at, wall clock)",
        [
            "mode",
            "POST -> 202",
            "202 -> RiskAssessed",
            "-> AlertRaised",
            "-> claimed",
            "-> arrival",
        ],
        [
            [
                mode,
                cell([r.intake for r in rs]),
                *(cell([r.stages[s] for r in rs]) for s in STAGES),
            ]
            for mode, rs in results.items()
        ],
    )
    print(
        "\nCPU of the Lantern processes, share of one core from the first report "
        "to the last message (medians of the runs):"
    )
    for mode, rs in results.items():
        shares = ", ".join(
            f"{name} {statistics.median(r.cpu[name] for r in rs):.0%}"
            for name in rs[0].cpu
        )
        print(f"  {mode}: {shares}")
    print()
    for mode, rs in results.items():
        goal = GOALS_MS[mode]
        p99 = statistics.median(_p(r.latencies, 99) for r in rs)
        met = "met" if p99 < goal and not any(r.missing for r in rs) else "NOT met"
        print(f"goal {mode}: p99 under {goal:.0f} ms: {met} (p99 {p99:.1f} ms)")


if __name__ == "__main__":
    asyncio.run(main())
