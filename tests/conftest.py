"""Fixtures: real PostgreSQL and Kafka (started by deploy/local/test.sh), fresh
databases per test, unique topics per test."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import structlog

from events.store.engine import create_engine
from events.store.migrate import upgrade
from events.store.sql import SqlEventStore
from tests.kafka_reader import delete_topics


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the suite with deploy/local/test.sh")
    return value


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture(scope="session")
def pg_url() -> str:
    return _required("LANTERN_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def kafka_servers() -> str:
    return _required("LANTERN_TEST_KAFKA")


async def _admin(pg_url: str, sql: str) -> None:
    conn = await asyncpg.connect(_plain(pg_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _with_db(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
async def pg_template(pg_url: str) -> AsyncIterator[str]:
    name = f"lantern_tpl_{uuid.uuid4().hex[:8]}"
    await _admin(pg_url, f"CREATE DATABASE {name}")
    await asyncio.to_thread(upgrade, _with_db(pg_url, name))
    yield name
    await _admin(pg_url, f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
async def pg_database(pg_url: str, pg_template: str) -> AsyncIterator[str]:
    """A migrated PostgreSQL database of its own for one test."""
    name = f"lantern_t_{uuid.uuid4().hex[:10]}"
    await _admin(pg_url, f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    yield _with_db(pg_url, name)
    await _admin(pg_url, f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_database(sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    """A migrated SQLite file of its own for one test."""
    path = tmp_path / "lantern.db"
    shutil.copy(sqlite_template, path)
    yield f"sqlite+aiosqlite:///{path}"


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """A module marked ``postgres_only`` tests rules above the database (the web
    layer's: who may see a page, sessions, the audit trail): it runs on PostgreSQL,
    as in production, and its SQLite copies are deselected to keep the suite inside
    its time. What depends on the database runs on both."""
    dropped = [
        item
        for item in items
        if item.get_closest_marker("postgres_only")
        and isinstance(item, pytest.Function)
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("database_url") == "sqlite"
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = set(dropped)
        items[:] = [item for item in items if item not in gone]


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    fixture = "sqlite_database" if request.param == "sqlite" else "pg_database"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlEventStore]:
    store = SqlEventStore(create_engine(database_url))
    yield store
    await store.close()


@pytest.fixture
async def pg_store(pg_database: str) -> AsyncIterator[SqlEventStore]:
    store = SqlEventStore(create_engine(pg_database))
    yield store
    await store.close()


@pytest.fixture
def topic_prefix(kafka_servers: str) -> Iterator[str]:
    """Topics of their own for one test, deleted after it: Kafka state never leaks
    between tests, and the broker does not grow with every run. (Not an async
    fixture: tests ask for it with ``request.getfixturevalue``.)"""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    yield prefix
    asyncio.run(delete_topics(kafka_servers, prefix))


@pytest.fixture(autouse=True, scope="session")
def _loggers_never_cached() -> Iterator[None]:
    """A command run in-process configures structlog to cache each logger on its
    first use (events/logs.py): a module's logger first used then (a channel, by a
    notifier the test runs beside the command) would stay bound to that set-up for
    the rest of the worker's tests, out of ``capture_logs``' reach. Tests cache
    none; processes they start still do."""
    configure = structlog.configure

    def uncached(**settings: Any) -> None:
        configure(**{**settings, "cache_logger_on_first_use": False})

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(structlog, "configure", uncached)
        yield


@pytest.fixture(autouse=True)
def _logging_left_as_found() -> Iterator[None]:
    """A command run in-process configures structlog as production has it (JSON, the
    allow-list): each test leaves the defaults behind for the next."""
    yield
    structlog.reset_defaults()
