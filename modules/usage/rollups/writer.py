"""The rollups (usage_daily, usage_hourly, usage_user_daily and usage_user_weekly, and the latency histograms
usage_latency_daily and usage_latency_weekly):
sums of the events per key, written in the transaction that stores events (and moved when events are
re-costed), read instead of the events by the queries they can answer (sources.py).

Every rollup is filled by one statement derived from its unique key: the events' sums grouped by that key,
added to the rows already there. The same statement adds a batch (events by id), takes re-costed events out
and back in (sign -1, then +1), and rebuilds a rollup from all events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.database import for_this_transaction
from modules.usage.models import (
    DailyLatencyRow,
    DailyUsageRow,
    DailyUserUsageRow,
    HourlyUsageRow,
    RollupSums,
    WeeklyLatencyRow,
    WeeklyUserUsageRow,
)
from modules.usage.records import UsageEvent
from modules.usage.rollups.latency import bucket_sql

ROLLUP_TABLES: tuple[type[RollupSums], ...] = (DailyUsageRow, HourlyUsageRow, DailyUserUsageRow, WeeklyUserUsageRow)
LATENCY_TABLES: tuple[type[DailyLatencyRow] | type[WeeklyLatencyRow], ...] = (DailyLatencyRow, WeeklyLatencyRow)
# The bucket a rollup row stands for, from the event's time; all in UTC whatever the session's time zone (a week
# by its Monday).
BUCKETS = {
    "day": "(occurred_at AT TIME ZONE 'UTC')::date",
    "hour": "date_trunc('hour', occurred_at, 'UTC')",
    "week": "date_trunc('week', occurred_at AT TIME ZONE 'UTC')::date",
}
# Each sum column, as an aggregate over usage_events.
SUMS = {
    "calls": "count(*)",
    "success_count": "count(*) FILTER (WHERE status = 'SUCCESS')",
    "error_count": "count(*) FILTER (WHERE status = 'ERROR')",
    "prompt_tokens": "sum(prompt_tokens)",
    "completion_tokens": "sum(completion_tokens)",
    "cached_prompt_tokens": "sum(cached_prompt_tokens)",
    "cache_write_tokens": "sum(cache_write_tokens)",
    "reasoning_tokens": "sum(reasoning_tokens)",
    "total_tokens": "sum(total_tokens)",
    "audio_tokens": "sum(audio_tokens)",
    "cost_usd": "coalesce(sum(cost_usd), 0)",
    "unpriced_calls": "count(*) FILTER (WHERE cost_source = 'UNKNOWN_MODEL')",
    "duration_sum": "coalesce(sum(duration_ms), 0)",
    "duration_count": "count(duration_ms)",
    "ttft_sum": "coalesce(sum(time_to_first_token_ms), 0)",
    "ttft_count": "count(time_to_first_token_ms)",
    "timed_completion_tokens": "coalesce(sum(completion_tokens) FILTER (WHERE duration_ms > 0), 0)",
    "timed_duration_sum": "coalesce(sum(duration_ms) FILTER (WHERE duration_ms > 0), 0)",
    "retries": "coalesce(sum(retry_count), 0)",
}


def unique_key(table: type[RollupSums] | type[DailyLatencyRow] | type[WeeklyLatencyRow]) -> list[str]:
    """A rollup's unique key's columns: workspace, bucket, then the event columns kept (what its rows add to)."""
    mapped = table.__table__
    assert isinstance(mapped, Table)  # declared as a FromClause; a declarative table maps to a Table
    (index,) = [i for i in mapped.indexes if i.unique]
    return [column.name for column in index.columns]


@dataclass(frozen=True)
class RollupStatements:
    """The statements that keep one rollup table."""

    table: type[RollupSums]

    @property
    def name(self) -> str:
        return self.table.__tablename__

    @property
    def key(self) -> list[str]:
        return unique_key(self.table)

    def adding(self, events: str, sign: str = ":sign") -> str:
        """Adds `sign` times the sums of the events of `events` (the table, or a CTE of some of its rows). Rows go
        in key order, so concurrent batches take the rollup's row locks in one order and queue instead of
        deadlocking."""
        key = self.key
        selected = [BUCKETS.get(column, column) for column in key]
        where = " WHERE user_id IS NOT NULL" if "user_id" in key else ""
        positions = ", ".join(str(i + 1) for i in range(len(key)))
        return (
            f"INSERT INTO {self.name} ({', '.join([*key, *SUMS])}) "
            f"SELECT {', '.join(selected)}, "
            + ", ".join(f"CAST({sign} AS integer) * {aggregate}" for aggregate in SUMS.values())
            + f" FROM {events}{where} GROUP BY {positions} ORDER BY {positions} "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
            + ", ".join(f"{column} = {self.name}.{column} + excluded.{column}" for column in SUMS)
        )


def latency_adding(
    events: str, sign: str = ":sign", table: type[DailyLatencyRow | WeeklyLatencyRow] = DailyLatencyRow
) -> str:
    """Adds `sign` times the events of `events` (the table, or a CTE of some of its rows) to the latency
    histograms of `table` (daily or weekly): each event counts once in the bucket of its duration and once in that
    of its time to first token (where it has them), in its model's row and in the row of every model (provider and
    model null)."""
    name, key = table.__tablename__, unique_key(table)
    bucket = BUCKETS[key[1]]
    positions = ", ".join(str(i + 1) for i in range(len(key)))
    return (
        f"INSERT INTO {name} ({', '.join(key)}, durations, ttfts) "
        f"SELECT workspace_id, {bucket}, provider, model, measured.log_bucket, "
        f"CAST({sign} AS integer) * count(*) FILTER (WHERE measured.is_duration), "
        f"CAST({sign} AS integer) * count(*) FILTER (WHERE NOT measured.is_duration) "
        f"FROM {events} CROSS JOIN LATERAL (VALUES "
        f"({bucket_sql('duration_ms')}, true), ({bucket_sql('time_to_first_token_ms')}, false)"
        ") AS measured (log_bucket, is_duration) "
        "WHERE measured.log_bucket IS NOT NULL "
        f"GROUP BY GROUPING SETS ((workspace_id, {bucket}, provider, model, measured.log_bucket), "
        f"(workspace_id, {bucket}, measured.log_bucket)) ORDER BY {positions} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        f"durations = {name}.durations + excluded.durations, ttfts = {name}.ttfts + excluded.ttfts"
    )


def adding_everywhere(events_where: str) -> str:
    """One statement that adds the events to every rollup: one round trip while their row locks are held (each
    further round trip kept them held while the event loop ran other requests). Every batch runs the same
    statement, so every transaction takes the rollups' rows in the same order. The events are read once (the
    `batch` CTE, materialised), not once per rollup: four index scans of a batch were three too many."""
    parts = [RollupStatements(table).adding("batch") for table in ROLLUP_TABLES]
    parts += [latency_adding("batch", table=table) for table in LATENCY_TABLES]
    rollups = ", ".join(f"rollup_{n} AS ({part})" for n, part in enumerate(parts))
    return f"WITH batch AS MATERIALIZED (SELECT * FROM usage_events WHERE {events_where}), {rollups} SELECT 1"


# The batch's time span bounds the read, so its plan reads only the partitions of its months (the ids alone would
# probe every month's primary key).
ADD_EVENTS = text(adding_everywhere("id = ANY(:ids) AND occurred_at BETWEEN :earliest AND :latest"))
EVER = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
# A prepared statement's plan is made for its parameters five times, then PostgreSQL may keep a generic one for
# good: one made while usage_events was nearly empty reads the events with a sequential scan, and keeps doing so
# as the table grows (measured: 130 ms per rollup at 27,000 events and rising, against 4 ms through the primary
# key) until an ANALYZE replaces it. Planned for its ids every time instead (under 1 ms), in this transaction
# (for_this_transaction(plan_cache_mode="force_custom_plan")).


def rebuild_statements() -> list[str]:
    """Empties every rollup and fills it again from all events (for rows loaded around the insert path, e.g. a
    bulk COPY). The migrations that created the tables hold their own copies: migrations must not change
    with the code."""
    statements = []
    for table in ROLLUP_TABLES:
        rollup = RollupStatements(table)
        statements.append(f"DELETE FROM {rollup.name}")
        statements.append(rollup.adding("usage_events", sign="1"))
    for latency in LATENCY_TABLES:
        statements.append(f"DELETE FROM {latency.__tablename__}")
        statements.append(latency_adding("usage_events", sign="1", table=latency))
    return statements


async def rebuild(session: AsyncSession) -> dict[str, int]:
    """Rebuilds every rollup from the events, in the caller's transaction; rows per rollup. The rollups are
    locked against writes meanwhile (ingestion waits; reads go on), so no batch is counted twice or lost."""
    names = [RollupStatements(table).name for table in ROLLUP_TABLES] + [t.__tablename__ for t in LATENCY_TABLES]
    await session.execute(text(f"LOCK TABLE {', '.join(names)} IN EXCLUSIVE MODE"))
    for statement in rebuild_statements():
        await session.execute(text(statement))
    return {name: (await session.execute(text(f"SELECT count(*) FROM {name}"))).scalar_one() for name in names}


@dataclass(frozen=True)
class RollupWriter:
    """A stored-events hook: adds each batch to every rollup in the batch's own transaction."""

    async def on_stored(self, session: AsyncSession, events: Sequence[UsageEvent]) -> None:
        await self.add(session, [event.id for event in events], within=time_span(events))

    async def add(
        self,
        session: AsyncSession,
        event_ids: Sequence[int],
        *,
        sign: int = 1,
        within: tuple[datetime, datetime] = EVER,
    ) -> None:
        """Adds the stored events `event_ids` to every rollup (or takes them out, with sign -1); `within`, the
        span of their occurred_at, only bounds the partitions read."""
        if not event_ids:
            return
        await for_this_transaction(session, plan_cache_mode="force_custom_plan")
        earliest, latest = within
        parameters = {"ids": list(event_ids), "sign": sign, "earliest": earliest, "latest": latest}
        await session.execute(ADD_EVENTS, parameters)

    async def remove(
        self, session: AsyncSession, event_ids: Sequence[int], *, within: tuple[datetime, datetime] = EVER
    ) -> None:
        """Takes events out of the rollups, before they change (re-costing adds them back after)."""
        await self.add(session, event_ids, sign=-1, within=within)


def time_span(events: Sequence[UsageEvent]) -> tuple[datetime, datetime]:
    """The first and last occurred_at of the events (at least one)."""
    moments = [event.occurred_at for event in events]
    return min(moments), max(moments)
