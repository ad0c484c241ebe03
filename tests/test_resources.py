"""A process's resources: opened once, then handed to the providers as plain objects (no per-request
gathering of async dependencies), and closed by awaiting their own cleanup."""

from __future__ import annotations

import inspect

from sqlalchemy import text

from service.config import Settings
from service.container import ApplicationContainer
from service.resources import start_resources, stop_resources


async def test_services_are_built_synchronously_once_the_resources_are_open(database_url, caplog):
    container = ApplicationContainer()
    container.settings.override(Settings(database_url=database_url, webhooks_enabled=False))
    await start_resources(container)
    try:
        database = container.database()
        usage = container.usage.service()
        assert not inspect.isawaitable(database) and not inspect.isawaitable(usage)
        assert usage.database is database
        assert container.usage.analytics().database is container.read_database() is database  # no replica set
        async with database.engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
            pooled = (await connection.get_raw_connection()).driver_connection
    finally:
        await stop_resources(container)
    assert pooled.is_closed(), "the engine was disposed: its pooled connection closed"
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
