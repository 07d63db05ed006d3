"""Alerts from separate processes on PostgreSQL and Kafka, to real channel servers on
loopback (SMTP, a Notify stand-in, a partner's webhook endpoint): every report becomes
one message per recipient, also when the notifier is killed mid-stream."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx

from tests.channel_servers import WEBHOOK_SECRET, Inbox, Receiver, serve_smtp
from tests.e2e.processes import (
    free_port,
    lantern,
    log_of,
    run_lantern,
    terminate,
    until_healthy,
)
from tests.e2e.test_processes import ADA_REPORT
from tests.notify_server import serve_app, serve_notify
from tests.waiting import eventually

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
NOTIFY_SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
SMS_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
REPORTS = 6
CHILD = (
    "la_child_id,given_name,family_name,date_of_birth,looked_after,uasc,"
    "placing_authority,placement_district,ola,social_worker_name,social_worker_email,"
    "social_worker_phone,team_name,team_email,team_phone\n"
    "FICT0001,Ada,Fictitious,2009-03-14,true,false,202,Maidstone,true,"
    "Alex,,07700900123,,,\n"
)


def recipients(hooks: str) -> str:
    return (
        "recipient_id,kind,key,name,email,phone,webhook_url\n"
        f"mcet,mcet,,Police MCET,,,{hooks}/mcet\n"
        "la-202,la_contact,202,Camden missing children,missing@la202.example,,\n"
    )


async def test_reports_become_one_message_per_recipient_through_a_killed_notifier(
    pg_database: str, kafka_servers: str, topic_prefix: str, tmp_path: Path
):
    inbox, hooks = Inbox(), Receiver()
    templates = {SMS_TEMPLATE}
    async with (
        serve_notify(SERVICE_ID, NOTIFY_SECRET, templates=templates) as notify,
        serve_app(hooks.app()) as hooks_root,
    ):
        with serve_smtp(inbox) as smtp_port:
            env = _env(
                pg_database, kafka_servers, topic_prefix, smtp_port, notify.base_url
            )
            token = _setup(env, tmp_path, f"{hooks_root}/hooks")
            processes = {
                name: lantern(*args, env=env)
                for name, args in {
                    "sources": ("sources", "serve", "--port", env["SOURCES_PORT"]),
                    "intake": ("intake", "--port", env["LANTERN_PORT"]),
                    "triage": ("triage",),
                    "notifier": ("notifier",),
                    "relay": ("relay",),
                }.items()
            }
            try:
                await _run(env, token, processes, inbox, hooks, notify)
            finally:
                codes = {n: await asyncio.to_thread(terminate, p)
                         for n, p in processes.items()}  # fmt: skip

    logs = {n: log_of(p) for n, p in processes.items()}
    assert set(codes.values()) == {0}, (codes, logs)
    for text in logs.values():  # no personal data in any process's logs
        assert "Fictitious" not in text and "07700900123" not in text


async def _run(env, token, processes, inbox, hooks, notify) -> None:
    base = f"http://127.0.0.1:{env['LANTERN_PORT']}"
    await until_healthy(base)
    await until_healthy(f"http://127.0.0.1:{env['SOURCES_PORT']}")  # up, as in life
    async with httpx.AsyncClient(base_url=base) as http:
        auth = {"Authorization": f"Bearer {token}"}
        for n in range(REPORTS):
            body = {**ADA_REPORT, "police_reference": f"KNT-NOTIFY-{n}"}
            posted = await http.post("/v1/missing-reports", json=body, headers=auth)
            assert posted.status_code == 202, posted.text
            if n == 1:  # the notifier dies while alerts are flowing, and comes back
                await eventually(lambda: hooks.received, timeout=90, what="first alert")
                processes["notifier"].send_signal(signal.SIGKILL)
                processes["notifier"].wait()
                processes["notifier"] = lantern("notifier", env=env)

    def keys() -> tuple[set[str], set[str], set[str]]:
        return (
            {h["idempotency-key"] for _, h, _ in hooks.received},
            {str(m["Message-ID"]) for m in inbox.received},
            {r.body["reference"] for r in notify.state.received},
        )

    await eventually(
        lambda: all(len(k) == REPORTS for k in keys()), timeout=120,
        what="every recipient told about every report",
    )  # fmt: skip
    webhook_keys, mail_keys, sms_keys = keys()
    assert all(valid for valid, _, _ in hooks.received)  # signed
    # Least data: the police team's messages carry exploitation reasons only; the
    # home authority, which manages the episode, what it needs to act (DOMAIN 1.6),
    # and never this council's id for the child as its own.
    police = json.loads(hooks.received[0][2])
    assert (
        "county lines" in police["body"] and "persistently absent" not in police["body"]
    )
    home = inbox.received[0].get_content()
    assert "persistently absent" in home and "Your child id: not known to us" in home
    assert "FICT0001" not in home
    sms = notify.state.received[0].body
    assert sms["phone_number"] == "07700900123" and sms["personalisation"]["ack_url"]
    assert len(webhook_keys | mail_keys | sms_keys) == 3 * REPORTS  # nothing shared


def _env(
    pg: str, kafka: str, prefix: str, smtp_port: int, notify_url: str
) -> dict[str, str]:
    sources_port = free_port()
    return {
        "LANTERN_DATABASE_URL": pg,
        "LANTERN_KAFKA_BOOTSTRAP_SERVERS": kafka,
        "LANTERN_KAFKA_TOPIC_PREFIX": prefix,
        "LANTERN_KAFKA_GROUP_PREFIX": prefix,  # groups of its own on a shared broker
        "LANTERN_ENVIRONMENT": "test",  # the log allow-list is on
        "LANTERN_PORT": str(free_port()),
        "SOURCES_PORT": str(sources_port),
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
        "LANTERN_CHANNELS__NOTIFY__BASE_URL": notify_url,
        "LANTERN_CHANNELS__NOTIFY__API_KEY": f"e2e-{SERVICE_ID}-{NOTIFY_SECRET}",
        "LANTERN_CHANNELS__NOTIFY__SMS_TEMPLATE_ID": SMS_TEMPLATE,
        "LANTERN_CHANNELS__WEBHOOK__SECRET": WEBHOOK_SECRET,
        "LANTERN_CHANNELS__WEBHOOK__ALLOWED_HOSTS": "127.0.0.1",  # the receiver
        "LANTERN_NOTIFIER_LINK_SECRET": "a-link-secret-for-end-to-end-tests-0123",
        "LANTERN_NOTIFIER_POLL_S": "0.2",
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


def _setup(env: dict[str, str], folder: Path, hooks: str) -> str:
    (folder / "children.csv").write_text(CHILD)
    (folder / "recipients.csv").write_text(recipients(hooks))
    for args in (
        ("db", "upgrade"),
        ("children", "import", str(folder / "children.csv")),
        ("recipients", "import", str(folder / "recipients.csv")),
    ):
        done = run_lantern(*args, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    created = run_lantern(
        "clients", "create", "--name", "kent", "--role", "police", "--force", "KENT",
        env=env,
    )  # fmt: skip
    return created.stdout.strip().splitlines()[-1]
