"""Without pool_pre_ping: a pooled connection the server closed is replaced at checkout with no round trip, and a
unit of work that met a dead connection anyway is done once more (ingestion's store is)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from modules.core.database import once_more_if_disconnected
from service.database import connect


async def test_a_connection_the_server_closed_is_replaced_at_checkout(engine: AsyncEngine):
    database = connect(engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)
    try:
        async with database.engine.connect() as connection:
            first = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with engine.connect() as other:
            killed = (await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})).scalar_one()
        assert killed is True
        await asyncio.sleep(0.2)  # the server's goodbye reaches the pooled connection
        async with database.engine.connect() as connection:
            second = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert second != first
    finally:
        await database.engine.dispose()


def dead(invalidated: bool) -> DBAPIError:
    return DBAPIError("SELECT 1", None, ConnectionError("connection was closed"), connection_invalidated=invalidated)


async def test_work_that_met_a_dead_connection_is_done_once_more():
    attempts: list[int] = []

    async def work() -> str:
        attempts.append(len(attempts))
        if len(attempts) == 1:
            raise dead(invalidated=True)
        return "stored"

    assert await once_more_if_disconnected(work) == "stored"
    assert attempts == [0, 1]


async def test_only_once_and_only_for_a_dead_connection():
    attempts: list[int] = []

    async def always_dead() -> str:
        attempts.append(1)
        raise dead(invalidated=True)

    with pytest.raises(DBAPIError):
        await once_more_if_disconnected(always_dead)
    assert len(attempts) == 2

    async def failing() -> str:
        attempts.append(1)
        raise dead(invalidated=False)

    with pytest.raises(DBAPIError):
        await once_more_if_disconnected(failing)
    assert len(attempts) == 3
