"""Engines for the two supported databases, configured the way the store needs them."""

from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import SingletonThreadPool

WRITE = "lantern_write"
"""Execution option marking a connection that will write: SQLite then takes its write
lock at BEGIN, so two writers queue instead of deadlocking on a lock upgrade."""

APPEND_LOCK = 0x4C414E54
""""LANT": the one advisory lock every appender takes on PostgreSQL (SQLite: its
write lock, taken at BEGIN by a ``WRITE`` connection)."""

ONE_STATEMENT = "lantern_one_statement"
"""Execution option marking a connection that runs single statements: on SQLite no
BEGIN around them (a statement on its own is its own snapshot)."""


def create_engine(url: str, *, pool_size: int = 20) -> AsyncEngine:
    """No overflow: under load an overflow connection is opened and closed on every
    checkout (TLS attempt, SCRAM, a backend fork); a kept one is just waited for.
    Last in, first out: the few connections in use keep their prepared statements
    (each new IN-list length is a statement), where a rotation prepares on all."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=0, pool_use_lifo=True
    )


def reader(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, for reads of one statement: on PostgreSQL in autocommit, which
    saves the BEGIN and ROLLBACK round trips around each. SQLite keeps its own."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, for a transaction that will write outside the store (the web
    layer's people, sessions, clients): on SQLite its BEGIN takes the write lock, so
    it waits its turn behind the store's writer instead of failing with "database is
    locked" when its read would have to become a write."""
    return engine.execution_options(**{WRITE: True})


def sqlite_writer(engine: AsyncEngine) -> Engine:
    """A synchronous engine on the same SQLite file, for the store's writer thread:
    one connection, used by that thread alone."""
    writer = create_sync_engine(
        engine.url.set(drivername="sqlite"),
        poolclass=SingletonThreadPool,
        connect_args={"timeout": 30},
        execution_options={WRITE: True},
    )
    _configure_sqlite(writer)
    return writer


def sqlite_reader(engine: AsyncEngine) -> Engine:
    """A synchronous engine on the same SQLite file for the store's reads of one
    statement, run on the event loop's thread: no hop at all, where aiosqlite makes
    one per step (BEGIN, execute, fetch, close, rollback). A connection per thread."""
    readers = create_sync_engine(
        engine.url.set(drivername="sqlite"),
        poolclass=SingletonThreadPool,
        connect_args={"timeout": 30},
        execution_options={ONE_STATEMENT: True},
    )
    _configure_sqlite(readers)
    return readers


def _sqlite_engine(url: str) -> AsyncEngine:
    """A kept pool, no overflow: each aiosqlite connection is a thread, and an
    overflow one would be a thread started and stopped on almost every checkout."""
    engine = create_async_engine(
        url, connect_args={"timeout": 30}, pool_size=20, max_overflow=0
    )
    _configure_sqlite(engine.sync_engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # acknowledged means on disk
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get(ONE_STATEMENT, False):
            return
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE) else "BEGIN")
