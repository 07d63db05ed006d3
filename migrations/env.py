"""Alembic environment: async engine from the Lantern database URL."""

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from events.store.engine import create_engine
from migrations.models import metadata

config = context.config


def _url() -> str:
    return (
        config.get_main_option("sqlalchemy.url") or os.environ["LANTERN_DATABASE_URL"]
    )


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
