"""The service's connections speak UTC whatever the database's own TimeZone is (initdb takes the host's), so
that every date, date_trunc and cast in its SQL means a UTC day, as the rollups' buckets and the source
chooser assume."""

from __future__ import annotations

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from service.database import asyncpg_url, connect


async def test_connections_are_in_utc_on_a_database_whose_time_zone_is_kiritimati(engine: AsyncEngine):
    url = engine.url.render_as_string(hide_password=False)
    async with engine.connect() as connection:
        name = (await connection.execute(text("SELECT current_database()"))).scalar_one()
    async with engine.begin() as connection:
        await connection.execute(text(f"ALTER DATABASE \"{name}\" SET timezone = 'Pacific/Kiritimati'"))
    try:
        plain = await asyncpg.connect(engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
        try:  # the database's default took effect: a connection that does not ask gets +14:00
            assert await plain.fetchval("SHOW TimeZone") == "Pacific/Kiritimati"
        finally:
            await plain.close()
        database = connect(asyncpg_url(url), pool_size=1, max_overflow=0)
        try:
            async with database.engine.connect() as connection:
                zone = (await connection.execute(text("SHOW TimeZone"))).scalar_one()
                day = (await connection.execute(text("SELECT '2026-03-01T11:00:00Z'::timestamptz::date"))).scalar_one()
            assert (zone, str(day)) == ("UTC", "2026-03-01")  # in Kiritimati it is already 2 March
        finally:
            await database.engine.dispose()
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(f'ALTER DATABASE "{name}" RESET timezone'))
