"""The database handle modules receive, and the declarative base their tables share."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from sqlalchemy import MetaData, TextClause, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase

T = TypeVar("T")
log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@dataclass(frozen=True)
class Database:
    """An engine and the session factory services open their unit of work with."""

    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]


async def once_more_if_disconnected(work: Callable[[], Awaitable[T]]) -> T:
    """`work`, a whole unit of work, done again once on another connection when the one it had was dead (the
    pool drops those the server closed, but a restart's goodbye may not have been read yet): what pool_pre_ping
    did with a round trip on every checkout, paid only when it happens. `work` must be safe to repeat (its
    transaction rolled back, or committed and then recognised, as idempotent writes are)."""
    try:
        return await work()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        log.info("a database connection was dead; the unit of work is done again on another: %s", error.orig)
        return await work()


async def for_this_transaction(session: AsyncSession, **settings: str) -> None:
    """PostgreSQL settings for the session's current transaction only, in one round trip (`set_config(…, true)`
    is SET LOCAL: gone at COMMIT or ROLLBACK, so it holds through PgBouncer's transaction mode and never reaches
    the next user of the pooled connection)."""
    values: dict[str, str] = {}
    for i, (name, value) in enumerate(settings.items()):
        values |= {f"name{i}": name, f"value{i}": value}
    await session.execute(setting_statement(len(settings)), values)


@cache
def setting_statement(count: int) -> TextClause:
    """`SELECT set_config(…)` of `count` settings, made once (the rollup writer's is on every ingest)."""
    return text("SELECT " + ", ".join(f"set_config(:name{i}, :value{i}, true)" for i in range(count)))
