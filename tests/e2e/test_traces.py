"""One police report makes one connected trace across the processes, exported over
real OTLP/HTTP: intake's POST, triage's handling and source lookups, the notifier's
handling and each channel call, the trace carried between them in the events and
their Kafka headers."""

from __future__ import annotations

import asyncio
from collections import Counter
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
from tests.e2e.processes import log_of, terminate, until_healthy
from tests.e2e.test_processes import ADA_REPORT
from tests.notify_server import serve_app, serve_notify
from tests.otlp_receiver import Collector, ReceivedSpan
from tests.waiting import eventually

SERVER, CLIENT = 2, 3  # OTLP's SpanKind
PLANTED = ("Ada", "Fictitious", "FICT0001", "07700900123", "la202.example", "2009-03")
"""The child's data, from the report and the children's file: in no span."""


async def test_one_report_makes_one_connected_trace_across_the_processes(
    pg_database: str, kafka_servers: str, topic_prefix: str, tmp_path: Path
):
    inbox, hooks, collector = Inbox(), Receiver(), Collector()
    async with (
        serve_notify(SERVICE_ID, NOTIFY_SECRET, templates={SMS_TEMPLATE}) as notify,
        serve_app(hooks.app()) as hooks_root,
        serve_app(collector.app()) as otlp,
    ):
        with serve_smtp(inbox) as smtp_port:
            env = processes_env(
                pg_database, kafka_servers, topic_prefix, smtp_port, notify.base_url
            ) | {
                "LANTERN_OTEL_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_ENDPOINT": otlp,
                "OTEL_BSP_SCHEDULE_DELAY": "100",  # ms: spans out soon after they end
            }
            token = set_up(env, tmp_path, f"{hooks_root}/hooks")
            processes = start_pipeline(env)
            try:
                sent = await _report_and_messages(env, token, inbox, hooks, notify)
                spans = await eventually(
                    lambda: _whole_trace(collector.spans, sent), timeout=60,
                    what="the report's trace, every channel call in it",
                )  # fmt: skip
            finally:
                codes = {n: await asyncio.to_thread(terminate, p)
                         for n, p in processes.items()}  # fmt: skip

    assert set(codes.values()) == {0}, (
        codes,
        {n: log_of(p) for n, p in processes.items()},
    )
    traced = {(s.trace_id, s.service, s.name, s.parent_id) for s in collector.spans}
    assert len({s.trace_id for s in collector.spans}) == 1, traced  # nothing else
    roots = [s for s in spans if not s.parent_id]
    assert [(r.service, r.name, r.kind) for r in roots] == [
        ("lantern-intake", "POST /v1/missing-reports", SERVER)
    ]
    assert {s.service for s in spans} >= {
        "lantern-intake", "lantern-triage", "lantern-notifier",
    }  # fmt: skip
    lookups = [s for s in spans if s.name.startswith("lookup ")]
    assert lookups and {s.service for s in lookups} == {"lantern-triage"}
    assert all(s.kind == CLIENT for s in lookups)
    for span in collector.spans:
        text = " ".join([span.name, *span.attributes.values()])
        assert not any(planted in text for planted in PLANTED), span


async def _report_and_messages(env, token, inbox, hooks, notify) -> Counter[str]:
    """Posts the report; the messages the channel servers received, by channel."""
    base = f"http://127.0.0.1:{env['LANTERN_PORT']}"
    await until_healthy(base, timeout=240)  # five processes start on a shared machine
    await until_healthy(f"http://127.0.0.1:{env['SOURCES_PORT']}")
    async with httpx.AsyncClient(base_url=base) as http:
        auth = {"Authorization": f"Bearer {token}"}
        posted = await http.post("/v1/missing-reports", json=ADA_REPORT, headers=auth)
        assert posted.status_code == 202, posted.text

    def received() -> Counter[str]:
        return Counter(
            webhook=len(hooks.received),
            email=len(inbox.received),
            sms=len(notify.state.received),
        )

    await eventually(
        lambda: all(received().values()), timeout=120, what="every channel's message"
    )
    return received()


def _whole_trace(
    spans: list[ReceivedSpan], sent: Counter[str]
) -> list[ReceivedSpan] | None:
    """The spans, once every parent has arrived and a send span is there for each
    message the channel servers received."""
    ids = {s.span_id for s in spans}
    sends = Counter(
        s.attributes["lantern.channel"] for s in spans if s.name.startswith("send ")
    )
    connected = all(not s.parent_id or s.parent_id in ids for s in spans)
    return spans if connected and sends == sent else None
