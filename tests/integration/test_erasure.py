"""Erasure in the immutable log (events/store/keys.py, docs/data-protection.md):
distinctive personal data is planted in a child's record and episodes, the child
is erased, and then no table (the log included), no read model rebuilt by replay,
no export, no API answer or page and no Kafka record published afterwards holds
any of it; the aggregate figures are the same as before."""

from __future__ import annotations

import asyncio
import csv
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from sqlalchemy import select

from events.contracts.children import ChildRecorded
from events.contracts.missing import (
    ChildSighted,
    InformationAdded,
    LastSeen,
    MissingReported,
    ReportWithdrawn,
    WithdrawalReason,
)
from events.contracts.returns import ReturnInterviewNotesRecorded
from events.envelope import NewEvent
from events.personal import ERASED
from events.registry import Event
from events.relay import NAME, PARTITION, KafkaRelay
from events.store import Append, Commit
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from events.store.tables import subject_keys
from migrations.models import metadata
from services.api.auth import Role
from services.api.tables import audit_log
from services.processes import projectors
from tests.api import a_report_body, serve_api
from tests.integration.test_report_command import events_of, lantern
from tests.reports_world import PERIOD, World, merged
from tests.statutory_world import LIST8_DAY, episodes_of, own, statutory_edges
from tests.unit.reports.test_statutory import world_of
from tests.waiting import eventually

PLANTED = (
    "Zebedee", "Quux", "Aardvark Lane", "ZZ9 9ZZ", "Quokka Café",
    "told staff about the blue van", "2009-07-23", "23/07/2009", "2009, 7, 23",
)  # fmt: skip
BORN = date(2009, 7, 23)


def planted(world: World) -> tuple[str, list[tuple[str, list[Event]]]]:
    """The world's events, with one child's made distinctive: names, date of birth,
    where last seen, the circumstances, a sighting, information, interview notes."""
    kid = next(k for k in own(world) if len(episodes_of(world, k)) >= 2)
    streams = []
    for stream, events in events_of(world):
        out: list[Event] = []
        for e in events:
            if isinstance(e, ChildRecorded) and e.la_child_id == kid.id:
                e = e.model_copy(
                    update={"given_name": "Zebedee", "family_name": "Quux",
                            "date_of_birth": BORN}
                )  # fmt: skip
            if isinstance(e, MissingReported) and e.match.la_child_id == kid.id:
                child = e.child.model_copy(
                    update={"given_name": "Zebedee", "family_name": "Quux",
                            "date_of_birth": BORN}
                )  # fmt: skip
                e = e.model_copy(
                    update={
                        "child": child,
                        "circumstances": "Left for 4 Aardvark Lane",
                        "last_seen": LastSeen(
                            description="Outside the Quokka Café", postcode="ZZ9 9ZZ"
                        ),
                    }
                )
                at = e.missing_since + timedelta(minutes=5)
                sighted = ChildSighted(
                    episode_id=e.episode_id, seen_at=at, postcode="ZZ9 9ZZ",
                    description="Zebedee",
                )  # fmt: skip
                out += [e, sighted]
                out.append(
                    InformationAdded(
                        episode_id=e.episode_id, received_at=at,
                        information="Quux told staff about the blue van",
                    )
                )  # fmt: skip
                out.append(
                    ReturnInterviewNotesRecorded(
                        episode_id=e.episode_id, recorded_at=at,
                        notes="Zebedee told staff about the blue van",
                    )
                )  # fmt: skip
                continue
            out.append(e)
        streams.append((stream, out))
    return kid.id, streams


def append(database: str, streams: list[tuple[str, list[Event]]]) -> None:
    async def run() -> None:
        store = SqlEventStore(create_engine(database), projectors=projectors())
        try:
            for stream, events in streams:
                news = [NewEvent(event=e) for e in events]
                await store.commit(Commit([Append(stream, news)]))
        finally:
            await store.close()

    asyncio.run(run())


def everything_stored(database: str) -> str:
    """Every row of every table, the log included, as text."""

    async def run() -> str:
        engine = create_engine(database)
        try:
            async with engine.connect() as conn:
                rows = [
                    repr(tuple(row))
                    for table in metadata.sorted_tables
                    for row in (await conn.execute(select(table))).all()
                ]
        finally:
            await engine.dispose()
        return "\n".join(rows)

    return asyncio.run(run())


def found(text: str) -> list[str]:
    return [p for p in PLANTED if p in text]


def exports(database: str, folder: Path) -> dict[str, Any]:
    folder.mkdir()
    start, end = PERIOD
    runs = [
        ("export", "ssda903", "--year", "2026", "--out", str(folder / "903")),
        ("export", "annex-a", "--at", LIST8_DAY.isoformat(),
         "--out", str(folder / "list8.csv")),
        ("report", "panel", "--from", start.isoformat(), "--to", end.isoformat(),
         "--out", str(folder / "panel.json")),
    ]  # fmt: skip
    for args in runs:
        done = lantern(database, *args)
        assert done.exit_code == 0, done.output
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {
        "text": "\n".join(p.read_text(encoding="utf-8") for p in files),
        "missing": _csv(folder / "903" / "missing.csv"),
        "list8": _csv(folder / "list8.csv"),
        "panel": json.loads((folder / "panel.json").read_text()),
    }


def _csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_an_erased_child_is_found_nowhere_and_the_figures_hold(
    database_url: str, tmp_path: Path
):
    world = merged(statutory_edges(), world_of(4))
    child, streams = planted(world)
    append(database_url, streams)
    before = exports(database_url, tmp_path / "before")
    assert found(before["text"])  # the planting took: the 903 file has the birthday
    assert found(everything_stored(database_url))  # the read models hold it
    raw_log = _raw_log(database_url)
    assert not found(raw_log), "personal fields are stored sealed"

    done = lantern(database_url, "children", "erase", child, "--reason", "request")
    assert done.exit_code == 0, done.output
    assert "episode:" in done.output and f"child:{child}" in done.output
    rebuilt = lantern(database_url, "projections", "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output

    after = exports(database_url, tmp_path / "after")
    assert found(after["text"]) == []
    assert found(everything_stored(database_url)) == []
    assert after["panel"] == before["panel"]
    assert after["list8"] == before["list8"]
    dob = before["missing"][0].index("DOB")
    assert len(after["missing"]) == len(before["missing"])
    for was, now in zip(before["missing"], after["missing"], strict=True):
        if was[0] == child:  # the date of birth kept to its month, nothing more
            assert now[dob] == "01/07/2009" != was[dob]
            was = [*was[:dob], now[dob], *was[dob + 1 :]]
        assert now == was

    again = lantern(database_url, "children", "erase", child, "--reason", "again")
    assert again.exit_code == 2
    audited = asyncio.run(_audit_rows(database_url, child))
    assert ("lantern children erase", 0) in audited


def _raw_log(database: str) -> str:
    async def run() -> str:
        engine = create_engine(database)
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(select(metadata.tables["events"]))).all()
        finally:
            await engine.dispose()
        return "\n".join(repr(tuple(r)) for r in rows)

    return asyncio.run(run())


async def _audit_rows(database: str, child: str) -> list[tuple[str, int]]:
    engine = create_engine(database)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(audit_log.c.operation, audit_log.c.status).where(
                    audit_log.c.la_child_id == child
                )
            )
            return [(r[0], r[1]) for r in rows]
    finally:
        await engine.dispose()


async def test_the_store_seals_opens_and_forgets(store: SqlEventStore):
    episode = uuid.uuid4()
    stream = f"episode-{episode}"
    note = ReportWithdrawn(
        episode_id=episode, withdrawn_at=a_time(), note="Zebedee was never missing",
        reason=WithdrawalReason.reported_in_error,
    )  # fmt: skip
    info = InformationAdded(
        episode_id=episode, received_at=a_time(), information="Quux at Aardvark Lane"
    )
    await store.append(stream, [NewEvent(event=note), NewEvent(event=info)],
                       expected_version=None)  # fmt: skip
    read = await store.read_stream(stream)
    assert [e.event for e in read] == [note, info]
    page = await store.read_page(after=0, limit=10)
    assert [e.event for e in page.envelopes] == [note, info]

    assert await store.erase(reason="in error", episode_id=str(episode)) == [
        f"episode:{episode}"
    ]
    erased = [e.event for e in await store.read_stream(stream)]
    assert erased[0] == note.model_copy(update={"note": None})
    assert erased[1] == info.model_copy(update={"information": ERASED})
    assert "Zebedee" not in json.dumps([dict(e.data) for e in await store.read_all()])

    later = InformationAdded(
        episode_id=episode, received_at=a_time(), information="seen in Maidstone"
    )  # a new fact after the erasure: a new key, the old ciphertexts still lost
    await store.append(stream, [NewEvent(event=later)], expected_version=2)
    events = [e.event for e in await store.read_stream(stream)]
    assert events[1:] == [info.model_copy(update={"information": ERASED}), later]
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(subject_keys))).one()
    assert row.erased_at is not None and row.reason == "in error"
    assert row.key is not None  # re-keyed for the new fact


def a_time() -> datetime:
    return datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_the_api_erases_for_a_manager_and_shows_nothing_after(
    database_url: str,
):
    async with serve_api(database_url) as api:
        api.tokens["boss"] = await api.clients.create("boss", Role.manager, None)
        record = {
            "given_name": "Zebedee", "family_name": "Quux",
            "date_of_birth": "2009-07-23", "looked_after": True, "uasc": False,
            "placing_authority": "886", "ola": False,
        }  # fmt: skip
        put = await api.http.put(
            "/v1/children/ZQ1", json=record, headers=api.auth("cms")
        )
        assert put.status_code == 200, put.text
        body = a_report_body(
            "KNT-ZQ",
            child={"given_name": "Zebedee", "family_name": "Quux",
                   "date_of_birth": "2009-07-23", "gender": "male"},
            circumstances="Left for 4 Aardvark Lane",
        )  # fmt: skip
        posted = await api.post("/v1/missing-reports", body)
        assert posted.status_code == 202, posted.text
        episode = posted.json()["episode_id"]
        staff = await api.person("staff")
        page = await staff.http.get(f"/episodes/{episode}")
        assert found(page.text), "shown before the erasure"
        history = await api.get("/v1/children/ZQ1/history", client="oncall")
        assert history.status_code == 200, history.text
        assert history.json()["episodes"], "matched to the child's record"

        path = "/v1/children/ZQ1/personal-data"
        refused = await api.http.delete(
            path, params={"reason": "request"}, headers=api.auth("cms")
        )
        assert refused.status_code == 403
        erased = await api.http.delete(
            path, params={"reason": "subject's request"}, headers=api.auth("boss")
        )
        assert erased.status_code == 200, erased.text
        assert erased.json()["keys_erased"] == 2

        texts = [
            (await api.get(f"/v1/episodes/{episode}")).text,
            (await api.get("/v1/episodes")).text,
            (await api.get("/v1/children/ZQ1/history", client="oncall")).text,
            (await staff.http.get(f"/episodes/{episode}")).text,
            (await staff.http.get("/frequently-missing")).text,
        ]
        assert [found(t) for t in texts] == [[]] * len(texts)
        rows = await _audit_rows_of(api.store, "ZQ1")
        assert ("DELETE /v1/children/{la_child_id}/personal-data", 200) in rows


async def _audit_rows_of(store: SqlEventStore, child: str) -> list[tuple[str, int]]:
    rows = await store.select(
        select(audit_log.c.operation, audit_log.c.status).where(
            audit_log.c.la_child_id == child
        )
    )
    return [(r[0], r[1]) for r in rows]


async def test_kafka_records_published_after_erasure_hold_nothing(
    pg_database: str, kafka_servers: str, topic_prefix: str
):
    world = statutory_edges()
    child, streams = planted(world)
    await asyncio.to_thread(append, pg_database, streams)
    store = SqlEventStore(create_engine(pg_database), projectors=projectors())
    try:
        assert await store.erase(reason="request", la_child_id=child)
        stop = asyncio.Event()
        relay = KafkaRelay(store, bootstrap_servers=kafka_servers,
                           topic_prefix=topic_prefix)  # fmt: skip
        task = asyncio.create_task(relay.run(stop))
        head = await store.head()
        try:
            await eventually(
                lambda: _relayed(store, head), timeout=60, what="all relayed"
            )
        finally:
            stop.set()
            await task
        ids = {e.event_id for e in await store.read_all(limit=100_000)}
        values = await _every_record(kafka_servers, topic_prefix, ids)
    finally:
        await store.close()
    assert len(values) >= len(ids)
    assert found("\n".join(values)) == []
    assert any(ERASED in v for v in values)


async def _relayed(store: SqlEventStore, head: int) -> bool:
    return await store.checkpoint(NAME, PARTITION) >= head


async def _every_record(servers: str, prefix: str, ids: set[Any]) -> list[str]:
    """Every record of every topic, from the start, until each event is read."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=servers, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        topics = [t for t in await consumer.topics() if t.startswith(prefix)]
        consumer.subscribe(topics)
        values: list[str] = []
        seen: set[str] = set()
        wanted = {str(i) for i in ids}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while not wanted <= seen:
            assert loop.time() < deadline, f"{len(wanted - seen)} never read"
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    values.append(r.value.decode())
                    seen.add(dict(r.headers)["ce_id"].decode())
        return values
    finally:
        await consumer.stop()


def test_a_report_made_in_error_is_erased_alone(database_url: str):
    from tests.unit.test_personal import a_report

    report = a_report(None)  # never matched: no child id to erase it by
    stream = f"episode-{report.episode_id}"
    append(database_url, [(stream, [report])])
    refused = lantern(database_url, "children", "erase-report",
                      str(report.episode_id), "--reason", "in error")  # fmt: skip
    assert refused.exit_code == 2 and "not a report withdrawn" in refused.output
    withdrawn = ReportWithdrawn(
        episode_id=report.episode_id, withdrawn_at=a_time(),
        reason=WithdrawalReason.reported_in_error, note="Zebedee was at home",
    )  # fmt: skip
    append(database_url, [(stream, [withdrawn])])
    done = lantern(database_url, "children", "erase-report",
                   str(report.episode_id), "--reason", "in error")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert found(everything_stored(database_url)) == []
