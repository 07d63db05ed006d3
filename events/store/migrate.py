"""Alembic driven from code, so `lantern run` can bring a fresh database up to date."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

SCRIPTS = Path(migrations.__file__).parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Blocking (Alembic runs its own event loop): from async code, use a thread."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def is_up_to_date(engine: AsyncEngine) -> bool:
    heads = set(
        ScriptDirectory.from_config(alembic_config(str(engine.url))).get_heads()
    )
    async with engine.connect() as conn:
        current = await conn.run_sync(
            lambda sync: set(MigrationContext.configure(sync).get_current_heads())
        )
    return current == heads
