"""Alembic environment. From code (service/migrations.py) a connection is handed in; from the `alembic`
command line the URL comes from DATABASE_URL, or the embedded PostgreSQL is started."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from service.tables import compared
from service.tables import metadata as target_metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        transaction_per_migration=True,
        include_object=compared,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_command_line() -> None:
    from service.config import Settings
    from service.database import resolve_database_url

    settings = Settings.from_env()
    engine = create_async_engine(await resolve_database_url(settings.database_url, settings.data_dir))
    async with engine.begin() as connection:
        await connection.run_sync(run_migrations)
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    run_migrations(given)
else:
    asyncio.run(run_from_command_line())
