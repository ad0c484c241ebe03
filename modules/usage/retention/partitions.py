"""The months of usage_events: a partition per UTC month of occurred_at, made before events arrive for it, and
dropped whole once retention has passed its end.

An event whose month has no partition lands in the default partition (usage_events_default), so storing never
depends on this running; when a month is made, its rows there move into it in the same transaction. Every
process may try, at start and hourly; one at a time does (a transaction-scoped advisory lock).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.database import Database
from modules.usage.ingest.validation import DEFAULT_MAX_EVENT_AGE_DAYS

log = logging.getLogger(__name__)

PARTITION_LOCK = 0x6C6C6D75_0003  # pg advisory lock key: "llmu" + 3
INTERVAL_S = 3600.0
AHEAD = 1  # months made ahead of the current one, so a month's first event never waits for this
# How far back months are made, whatever age ingestion accepts: an older backfill waits in the default partition
# (until retention deletes it in chunks) rather than a partition a month for years of empty months.
LOOKBACK_DAYS = 62
DEFAULT_PARTITION = "usage_events_default"
MONTH_NAME = re.compile(r"^usage_events_y(\d{4})m(\d{2})$")
# DDL waits at most this long for the lock on usage_events (a long read holds it); the next pass tries again.
LOCK_TIMEOUT = "5s"
PARTITIONS_SQL = text(
    "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = 'usage_events'::regclass"
)


def month_of(moment: datetime) -> datetime:
    """The first instant of the UTC month holding `moment`."""
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_after(month: datetime) -> datetime:
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


def partition_name(month: datetime) -> str:
    return f"usage_events_y{month.year:04d}m{month.month:02d}"


def is_partition(table_name: str) -> bool:
    """Whether a table is one of usage_events' partitions (made here, not by the models)."""
    return table_name == DEFAULT_PARTITION or MONTH_NAME.match(table_name) is not None


@dataclass(frozen=True)
class EventPartitions:
    database: Database
    max_event_age_days: int = DEFAULT_MAX_EVENT_AGE_DAYS

    async def months(self, session: AsyncSession) -> list[datetime]:
        """The months that have a partition, in order."""
        names = (await session.execute(PARTITIONS_SQL)).scalars()
        found = [MONTH_NAME.match(name) for name in names]
        return sorted(datetime(int(m[1]), int(m[2]), 1, tzinfo=UTC) for m in found if m is not None)

    def wanted(self, now: datetime) -> list[datetime]:
        """Every month an event may be stored in at `now`, from the oldest accepted (at most LOOKBACK_DAYS back)
        to the next `AHEAD`."""
        month = month_of(now - timedelta(days=min(self.max_event_age_days, LOOKBACK_DAYS)))
        last = month_of(now)
        for _ in range(AHEAD):
            last = month_after(last)
        months = []
        while month <= last:
            months.append(month)
            month = month_after(month)
        return months

    async def ensure(self, now: datetime | None = None) -> list[str]:
        """Makes the partitions of the months that may receive events and have none; their names (none if
        another process is at it)."""
        made = []
        async with self.database.session_factory.begin() as session:
            if not (
                await session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": PARTITION_LOCK})
            ).scalar():
                return []
            await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            existing = set(await self.months(session))
            for month in self.wanted(now or datetime.now(UTC)):
                if month not in existing:
                    await self.make(session, month)
                    made.append(partition_name(month))
        return made

    async def make(self, session: AsyncSession, month: datetime) -> None:
        """Makes `month`'s partition, holding the default partition's rows of that month. Built apart and attached
        with a CHECK of its bounds, so neither the make nor the attach locks usage_events against writes."""
        name, start, end = partition_name(month), month.isoformat(), month_after(month).isoformat()
        within = f"occurred_at >= '{start}' AND occurred_at < '{end}'"
        await session.execute(text(f"CREATE TABLE {name} (LIKE usage_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
        await session.execute(text(f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds CHECK ({within})"))
        await session.execute(
            text(
                f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE {within} RETURNING *) "
                f"INSERT INTO {name} SELECT * FROM moved"
            )
        )
        await session.execute(
            text(f"ALTER TABLE usage_events ATTACH PARTITION {name} FOR VALUES FROM ('{start}') TO ('{end}')")
        )
        await session.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds"))

    async def drop_before(self, horizon: datetime) -> int:
        """Drops every month's partition that ends at or before `horizon` (retention has deleted their keys
        first); the number of events dropped."""
        dropped = 0
        async with self.database.session_factory() as session:
            months = await self.months(session)
        for month in months:
            end = month_after(month)
            if end > horizon:
                break
            async with self.database.session_factory.begin() as session:
                await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                name = partition_name(month)
                count = (await session.execute(text(f"SELECT count(*) FROM {name}"))).scalar_one()
                await session.execute(text(f"DROP TABLE {name}"))
            dropped += count
        return dropped

    async def run(self) -> None:
        """Makes the coming months' partitions hourly until cancelled; a failing pass is logged and retried."""
        while True:
            try:
                made = await self.ensure()
                if made:
                    log.info("usage_events partitions made: %s", ", ".join(made))
            except Exception:
                log.exception("making usage_events partitions failed; retrying in an hour")
            await asyncio.sleep(INTERVAL_S)
