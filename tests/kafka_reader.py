"""Read back what reached Kafka, for assertions on the relay; and clear it away."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from events.cloudevents import from_message
from events.envelope import Envelope


@dataclass
class Received:
    messages: list[tuple[str, Envelope, dict[str, bytes]]] = field(default_factory=list)

    @property
    def ids(self) -> set[object]:
        return {e.event_id for _, e, _ in self.messages}

    def first_versions_by_key(self) -> dict[str, list[int]]:
        """Each stream's versions in the order they first arrived (repeats dropped)."""
        seen: set[object] = set()
        versions: dict[str, list[int]] = defaultdict(list)
        for key, envelope, _ in self.messages:
            if envelope.event_id not in seen:
                seen.add(envelope.event_id)
                versions[key].append(envelope.stream_version)
        return versions


async def read_until(
    servers: str, topic: str, expected_ids: set[object], *, timeout: float = 60
) -> Received:
    received = Received()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=servers, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    deadline = time.monotonic() + timeout
    try:
        while not expected_ids <= received.ids:
            if time.monotonic() > deadline:
                missing = len(expected_ids - received.ids)
                raise AssertionError(f"{missing} events never reached {topic}")
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for r in records:
                    envelope = from_message(r.value, r.headers)
                    received.messages.append(
                        (r.key.decode(), envelope, dict(r.headers))
                    )
    finally:
        await consumer.stop()
    return received


def in_stream_order(received: Received) -> bool:
    return all(
        versions == list(range(1, len(versions) + 1))
        for versions in received.first_versions_by_key().values()
    )


async def run_in_thread(*command: str) -> int:
    import subprocess

    return await asyncio.to_thread(
        lambda: subprocess.run(command, check=True).returncode
    )


async def delete_topics(servers: str, prefix: str) -> None:
    """Delete the topics named ``prefix...``: a broker that keeps every test's topics
    grows slower, and each consumer's metadata refresh lists them all."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()
