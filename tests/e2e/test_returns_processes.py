"""Episodes to their end, in separate processes on PostgreSQL and Kafka, mail to a
real SMTP server on loopback: a child returns, the return interview falls due and
is not done, and the social worker and team manager are told once each, also when
the notifier is killed mid-way; a child missing again before the interview is due
supersedes it, and nobody is told of that one."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.channel_servers import Inbox, serve_smtp
from tests.e2e.processes import (
    free_port,
    lantern,
    log_of,
    run_lantern,
    terminate,
    until_healthy,
)
from tests.e2e.test_processes import ADA_REPORT
from tests.waiting import HTTP_TIMEOUT, eventually

SOCIAL_WORKER = "alex.worker@council.example"
TEAM_MANAGER = "cic-west.manager@council.example"
CHILD = (
    "la_child_id,given_name,family_name,date_of_birth,looked_after,uasc,"
    "placing_authority,placement_district,ola,social_worker_name,social_worker_email,"
    "social_worker_phone,team_name,team_email,team_phone\n"
    f"FICT0001,Ada,Fictitious,2009-03-14,true,false,886,Maidstone,false,"
    f"Alex,{SOCIAL_WORKER},,CiC West,,\n"
)
RECIPIENTS = (
    "recipient_id,kind,key,name,email,phone,webhook_url\n"
    "duty,duty_team,,Duty team,duty@council.example,,\n"
    "mcet,mcet,,Police MCET,mcet@police.example,,\n"
    f"tm-west,team_manager,CiC West,CiC West manager,{TEAM_MANAGER},,\n"
)
OVERDUE = "return interview overdue"
NOW = datetime.now(UTC).replace(microsecond=0)


def _days_ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


async def test_an_interview_not_done_is_told_once_each_through_a_killed_notifier(
    pg_database: str, kafka_servers: str, topic_prefix: str, tmp_path: Path
):
    inbox = Inbox()
    with serve_smtp(inbox) as smtp_port:
        env = _env(pg_database, kafka_servers, topic_prefix, smtp_port)
        police, staff = _setup(env, tmp_path)
        processes = {
            name: lantern(*args, env=env)
            for name, args in {
                "intake": ("intake", "--port", env["LANTERN_PORT"]),
                "triage": ("triage",),
                "notifier": ("notifier",),
                "returns": ("returns",),
                "relay": ("relay",),
            }.items()
        }
        try:
            overdue = await _run(env, police, staff, processes, inbox)
        finally:
            codes = {n: await asyncio.to_thread(terminate, p)
                     for n, p in processes.items()}  # fmt: skip

    logs = {n: log_of(p) for n, p in processes.items()}
    assert set(codes.values()) == {0}, (codes, logs)
    # Returned 29, 19 and 8 days ago, none interviewed: each overdue, told to the
    # social worker and the team manager once. The one returned 9.5 days ago was
    # followed by another half a day later: superseded, told to nobody. A message
    # the killed notifier sent but had not recorded is sent again when its lease runs
    # out, under the same Message-ID, by which mail systems drop the repeat
    # (docs/notifier.md): once each is one Message-ID each, and a repeat is the same
    # message to the same person.
    by_id = {str(m["Message-ID"]): m for m in overdue}
    for m in overdue:
        first = by_id[str(m["Message-ID"])]
        assert (m["To"], _reference(m)) == (first["To"], _reference(first))
    told = sorted((m["To"], _reference(m)) for m in by_id.values())
    assert told == sorted(
        (who, ref)
        for ref in ("KNT-RHI-1", "KNT-RHI-2", "KNT-RHI-4")
        for who in (SOCIAL_WORKER, TEAM_MANAGER)
    )
    for text in logs.values():  # no personal data in any process's logs
        assert "Fictitious" not in text and SOCIAL_WORKER not in text


async def _run(
    env: dict[str, str],
    police: str,
    staff: str,
    processes: dict[str, Any],
    inbox: Inbox,
) -> list[Any]:
    base = f"http://127.0.0.1:{env['LANTERN_PORT']}"
    await until_healthy(base)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, base_url=base) as http:

        async def report(ref: str, missing_days_ago: float) -> str:
            body = {
                **ADA_REPORT,
                "police_reference": ref,
                "missing_since": _days_ago(missing_days_ago),
                "reported_at": _days_ago(missing_days_ago - 0.05),
            }
            posted = await http.post(
                "/v1/missing-reports", json=body, headers=_auth(police)
            )
            assert posted.status_code == 202, posted.text
            return str(posted.json()["episode_id"])

        async def found(episode_id: str, days_ago: float) -> None:
            body = {
                "found_at": _days_ago(days_ago),
                "returned_to": "placement",
                "safe_and_well_check": True,
            }
            done = await http.post(
                f"/v1/episodes/{episode_id}/found", json=body, headers=_auth(police)
            )
            assert done.status_code == 202, done.text

        def overdue() -> list[Any]:
            return [m for m in inbox.received if OVERDUE in str(m["Subject"])]

        def told() -> int:  # a repeat of a message (its Message-ID) is not news
            return len({str(m["Message-ID"]) for m in overdue()})

        await found(await report("KNT-RHI-1", 30), 29)
        await eventually(overdue, timeout=90, what="the first overdue message")
        processes["notifier"].send_signal(signal.SIGKILL)
        processes["notifier"].wait()
        await found(await report("KNT-RHI-2", 20), 19)
        processes["notifier"] = lantern("notifier", env=env)
        # missing again half a day after a return: that interview is not due on its
        # own (DOMAIN.md 9 rule 14)
        third, fourth = await report("KNT-RHI-3", 10), await report("KNT-RHI-4", 9)
        await found(third, 9.5)
        await found(fourth, 8)

        async def matters() -> list[dict[str, Any]]:
            answer = await http.get(
                "/v1/alerts?status=open&limit=200", headers=_auth(staff)
            )
            items: list[dict[str, Any]] = answer.json()["items"]
            return [a for a in items if a["matter"] == "interview_overdue"]

        async def all_told() -> bool:
            return len(await matters()) == 6 and told() >= 6

        await eventually(all_told, timeout=120, what="six overdue messages")
        interviews = await http.get(
            "/v1/return-interviews?status=superseded", headers=_auth(staff)
        )
        assert [i["episode_id"] for i in interviews.json()["items"]] == [third]
        return overdue()


def _reference(mail: Any) -> str:
    return str(mail["Subject"]).split("/")[-1].rstrip(")")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _env(pg: str, kafka: str, prefix: str, smtp_port: int) -> dict[str, str]:
    return {
        "LANTERN_DATABASE_URL": pg,
        "LANTERN_KAFKA_BOOTSTRAP_SERVERS": kafka,
        "LANTERN_KAFKA_TOPIC_PREFIX": prefix,
        "LANTERN_KAFKA_GROUP_PREFIX": prefix,  # groups of its own on a shared broker
        "LANTERN_ENVIRONMENT": "test",  # the log allow-list is on
        "LANTERN_PORT": str(free_port()),
        "LANTERN_RATE_LIMIT_PER_MINUTE": "100000",  # the test polls the alerts
        "LANTERN_CHANNELS__EMAIL__HOST": "127.0.0.1",
        "LANTERN_CHANNELS__EMAIL__PORT": str(smtp_port),
        "LANTERN_CHANNELS__EMAIL__STARTTLS": "false",
        "LANTERN_CHANNELS__EMAIL__FROM_ADDRESS": "lantern@council.example",
        "LANTERN_NOTIFIER_LINK_SECRET": "a-link-secret-for-end-to-end-tests-0123",
        "LANTERN_NOTIFIER_POLL_S": "0.2",
        "LANTERN_RETURNS_OVERDUE_POLL_S": "0.5",
        # The killed notifier's messages are sent again when their lease runs out:
        # seconds here, not production's 90 (a lease outlasts every channel timeout);
        # the restarted one waits out the killed one's Kafka session for its
        # partitions: the broker's least (group.min.session.timeout.ms).
        **{
            f"LANTERN_CHANNELS__{c}__TIMEOUT_S": "4"
            for c in ("EMAIL", "NOTIFY", "WEBHOOK")
        },
        "LANTERN_NOTIFIER_LEASE_S": "5",
        "LANTERN_KAFKA_SESSION_TIMEOUT_MS": "6000",
    }


def _setup(env: dict[str, str], folder: Path) -> tuple[str, str]:
    (folder / "children.csv").write_text(CHILD)
    (folder / "recipients.csv").write_text(RECIPIENTS)
    for args in (
        ("db", "upgrade"),
        ("children", "import", str(folder / "children.csv")),
        ("recipients", "import", str(folder / "recipients.csv")),
    ):
        done = run_lantern(*args, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    tokens = []
    for name, role, force in (("kent", "police", "KENT"), ("oncall", "staff", None)):
        create = ["clients", "create", "--name", name, "--role", role]
        created = run_lantern(*create, *(["--force", force] if force else []), env=env)
        assert created.returncode == 0, created.stdout + created.stderr
        tokens.append(created.stdout.strip().splitlines()[-1])
    return tokens[0], tokens[1]
