"""Alerts from separate processes on PostgreSQL and Kafka, to real channel servers on
loopback (SMTP, a Notify stand-in, a partner's webhook endpoint): every report becomes
one message per recipient, also when the notifier is killed mid-stream."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx

from tests.channel_servers import Inbox, Receiver, serve_smtp
from tests.e2e.pipeline import (
    NOTIFY_SECRET,
    SERVICE_ID,
    SMS_TEMPLATE,
    processes_env,
    set_up,
    start_pipeline,
)
from tests.e2e.processes import (
    lantern,
    log_of,
    terminate,
    until_healthy,
)
from tests.e2e.test_processes import ADA_REPORT
from tests.notify_server import serve_app, serve_notify
from tests.waiting import HTTP_TIMEOUT, eventually

REPORTS = 6


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
            env = processes_env(
                pg_database, kafka_servers, topic_prefix, smtp_port, notify.base_url
            )
            token = set_up(env, tmp_path, f"{hooks_root}/hooks")
            processes = start_pipeline(env)
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
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, base_url=base) as http:
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
