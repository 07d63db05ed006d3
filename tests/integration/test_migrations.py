"""Alembic: migrations go up, down and up again, and agree with the table models."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from events.store.engine import create_engine
from events.store.migrate import downgrade, upgrade
from migrations.models import metadata


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names - {"alembic_version"}


async def _diff(url: str) -> list:
    engine = create_engine(url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), metadata
            )
        )
    await engine.dispose()
    return diff


async def test_upgrade_downgrade_upgrade(database_url: str):
    every_table = set(metadata.tables)
    assert await _tables(database_url) == every_table

    await asyncio.to_thread(downgrade, database_url, "base")
    assert await _tables(database_url) == set()

    await asyncio.to_thread(upgrade, database_url)
    assert await _tables(database_url) == every_table


async def test_models_and_migrations_agree(database_url: str):
    assert await _diff(database_url) == []
