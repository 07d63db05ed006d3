"""The replay-from-a-time example in docs/integrators.md, run as written against a
real broker: an integrator copying it gets what the page promises."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from events.cloudevents import to_message
from events.envelope import Envelope

PAGE = Path(__file__).parents[2] / "docs" / "integrators.md"


def example() -> str:
    text = PAGE.read_text()
    after = text.index("With a plain aiokafka client")
    match = re.compile(r"```python\n(.*?)```", re.S).search(text, after)
    assert match is not None
    return match.group(1)


def published(stream_id: str, at: datetime) -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(), stream_id=stream_id, stream_version=1, position=1,
        type="ChildFound", schema_version=1, data={"stream": stream_id},
        occurred_at=at, recorded_at=at, correlation_id=uuid.uuid4(),
        causation_id=None, actor="test",
    )  # fmt: skip


async def test_the_example_replays_from_a_time_once_each(
    kafka_servers: str, topic_prefix: str
):
    topic = f"{topic_prefix}episode"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 3, 1)])
    finally:
        await admin.close()
    before = published("episode-before", datetime(2026, 10, 31, 23, tzinfo=UTC))
    after = [
        published(f"episode-after-{n}", datetime(2026, 11, 1 + n, tzinfo=UTC))
        for n in range(3)
    ]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_servers)
    await producer.start()
    try:
        for envelope in [before, *after, after[0]]:  # the last: a duplicate
            key, value, headers = to_message(envelope)
            at_ms = int(envelope.recorded_at.timestamp() * 1000)
            await producer.send_and_wait(
                topic, value, key=key, headers=headers, timestamp_ms=at_ms
            )
    finally:
        await producer.stop()
    script = example().replace('"lantern.episode"', f'"{topic}"')
    script = script.replace('"127.0.0.1:9092"', f'"{kafka_servers}"')
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    keys = sorted(line.split(" ", 1)[0] for line in done.stdout.splitlines())
    assert keys == sorted(e.stream_id for e in after)
