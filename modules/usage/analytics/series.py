"""Time buckets aligned to the caller's time zone, and the SQL that sums events into them.

Bucket boundaries are computed here with zoneinfo (a DST day has 23 or 25 hours; a month its own length)
and handed to Postgres, which places each event with `width_bucket(occurred_at, boundaries)`: the same
boundaries on both sides, whatever the zone's offset or its DST rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from itertools import pairwise
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, DateTime, Integer, bindparam, cast, func, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.errors import BadUserInput
from modules.core.time_zones import time_zone
from modules.usage.analytics.dimensions import GroupBy
from modules.usage.analytics.histograms import histogram_percentiles, wants_percentiles, with_percentiles
from modules.usage.analytics.metrics import ALL_METRICS, OPTIONAL_SUMS, MetricNeeds, metrics_reader
from modules.usage.analytics.sources import Source, day_start
from modules.usage.analytics.split import latency_rows, split_for
from modules.usage.records import DimensionGroup, UsageFilterSpec, UsageMetrics

MAX_BUCKETS = 2000
MAX_SERIES_ROWS = 20_000


class TimeInterval(StrEnum):
    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


DEFAULT_SPAN = {
    TimeInterval.MINUTE: timedelta(hours=2),
    TimeInterval.HOUR: timedelta(days=2),
    TimeInterval.DAY: timedelta(days=30),
    TimeInterval.WEEK: timedelta(weeks=26),
    TimeInterval.MONTH: timedelta(days=365),
}


def zone_named(name: str) -> ZoneInfo:
    zone = time_zone(name)
    if zone is None:
        raise BadUserInput.of("timeZone", f"{name[:60]!r} is not an IANA time zone, e.g. Europe/Istanbul")
    return zone


def floor(moment: datetime, interval: TimeInterval, zone: ZoneInfo) -> datetime:
    """The start of the bucket holding `moment`, as a wall-clock time in `zone` (weeks start on Monday)."""
    local = moment.astimezone(zone)
    if interval is TimeInterval.MINUTE:
        return local.replace(second=0, microsecond=0)
    if interval is TimeInterval.HOUR:
        return local.replace(minute=0, second=0, microsecond=0)
    day = datetime(local.year, local.month, local.day, tzinfo=zone)
    if interval is TimeInterval.DAY:
        return day
    if interval is TimeInterval.WEEK:
        return wall_clock_plus(day, days=-day.weekday())
    return datetime(local.year, local.month, 1, tzinfo=zone)


def wall_clock_plus(start: datetime, *, days: int) -> datetime:
    """The same wall-clock time `days` later in start's zone (so across DST a day is 23 or 25 hours)."""
    naive = start.replace(tzinfo=None) + timedelta(days=days)
    return naive.replace(tzinfo=start.tzinfo)


def following(start: datetime, interval: TimeInterval) -> datetime:
    if interval is TimeInterval.MINUTE:
        return (start.astimezone(UTC) + timedelta(minutes=1)).astimezone(start.tzinfo)
    if interval is TimeInterval.HOUR:
        return (start.astimezone(UTC) + timedelta(hours=1)).astimezone(start.tzinfo)
    if interval is TimeInterval.DAY:
        return wall_clock_plus(start, days=1)
    if interval is TimeInterval.WEEK:
        return wall_clock_plus(start, days=7)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(year=year, month=month)


FIXED_STEPS = {TimeInterval.MINUTE: timedelta(minutes=1), TimeInterval.HOUR: timedelta(hours=1)}


def boundaries(start: datetime, end: datetime, interval: TimeInterval, zone: ZoneInfo) -> list[datetime]:
    """Bucket starts from the one holding `start`, and the end of the last one (≥ `end`)."""
    found = [floor(start, interval, zone)]
    if interval in FIXED_STEPS:  # `following` in one go: the first start plus whole steps of UTC time
        step, origin = FIXED_STEPS[interval], found[0].astimezone(UTC)
        steps = max(0, -((found[0] - end) // step))  # the fewest steps that reach `end`
        if steps > MAX_BUCKETS:
            raise too_many_buckets(interval)
        return [(origin + k * step).astimezone(zone) for k in range(steps + 1)]
    while found[-1] < end:
        if len(found) > MAX_BUCKETS:
            raise too_many_buckets(interval)
        found.append(following(found[-1], interval))
    return found


def too_many_buckets(interval: TimeInterval) -> BadUserInput:
    return BadUserInput.of(
        "interval",
        f"more than {MAX_BUCKETS} {interval.value} buckets between filter.from and filter.to: "
        "narrow the range or use a larger interval",
    )


@dataclass(frozen=True)
class SeriesRows:
    """What the series statement read: one row per bucket (its `bucket` the 1-based index into `bounds`' starts)
    and, grouped, one per bucket and group, the group's `keys` values after the bucket column, told apart by
    grouping_mask 0; rows of empty buckets are absent."""

    bounds: list[datetime]
    keys: int
    rows: Sequence[Any]
    columns: tuple[str, ...]  # the statement's column names, in the rows' order (rows are read by position)


@dataclass(frozen=True)
class TimeSeries:
    workspace_id: UUID
    read: SeriesRows

    @cached_property
    def buckets(self) -> list[TimeBucket]:
        return buckets_of(self.read)


@dataclass(frozen=True)
class TimeBucket:
    start: datetime
    end: datetime
    metrics: UsageMetrics
    groups: list[DimensionGroup]


class SeriesReader:
    async def series(
        self,
        session: AsyncSession,
        spec: UsageFilterSpec,
        bounds: list[datetime],
        grouping: GroupBy | None,
        needs: MetricNeeds = ALL_METRICS,
        source: Source | None = None,
    ) -> list[TimeBucket]:
        """Each bucket's totals (and its groups), empty buckets as zeros (see rows())."""
        return buckets_of(await self.rows(session, spec, bounds, grouping, needs, source))

    async def rows(
        self,
        session: AsyncSession,
        spec: UsageFilterSpec,
        bounds: list[datetime],
        grouping: GroupBy | None,
        needs: MetricNeeds = ALL_METRICS,
        source: Source | None = None,
        totals: bool = True,
        columns_only: bool = False,
    ) -> SeriesRows:
        """One statement: each bucket's totals (and its groups, with GROUPING SETS), from the smallest source
        that answers exactly, unless `source` is given. Grouped and without `totals`, the groups only (one
        grouping less to hash, no totals rows to read: the buckets' totals are then absent, as if empty).
        `columns_only`: the rows are for columns_of alone, which places them by bucket, orders the groups itself
        and reads the columns it is asked for by name; so they come unsorted (sorting 5,760 groups by cost and a
        collated text was a fifth of the hourly series' SQL) and without the sums `needs` leaves out, not even as
        the constants metrics_reader (for buckets) reads (18 such columns of 5,760 rows were most of loading
        them)."""
        source = source or split_for(spec, needs, grouping.dimensions if grouping else (), bounds)
        edges = bindparam("bounds", [b.astimezone(UTC) for b in bounds], type_=ARRAY(DateTime(True)))
        bucket = bucket_number(source, bounds, edges).label("bucket")
        keys = grouping.columns(source.table) if grouping else []
        metrics = source.metrics(needs)
        if columns_only:
            metrics = [m for m in metrics if m.name not in OPTIONAL_SUMS or m.name in needs.sums]
        statement = select(bucket, *keys, *metrics).where(*source.conditions(spec))
        sets = None
        if keys:
            names = ", ".join(f"d{i}" for i in range(len(keys)))
            if totals:
                statement = statement.add_columns(func.grouping(*keys).label("grouping_mask"))
                sets = f"GROUPING SETS ((bucket), (bucket, {names}))"
            else:  # one set, every row a group's (mask 0)
                statement = statement.add_columns(literal(0, Integer).label("grouping_mask"))
                sets = f"GROUPING SETS ((bucket, {names}))"
            statement = statement.group_by(text(sets))
            order = [
                text("bucket"),
                text("cost_usd DESC"),
                text("calls DESC"),
                *[text(f"d{i}") for i in range(len(keys))],
            ]
        else:
            statement = statement.group_by(text("bucket"))
            order = [text("bucket")]
        if source.rollup and wants_percentiles(needs):
            hist = latency_rows(spec, by_model=grouping is not None, bounds=bounds)
            latency_keys = grouping.columns(hist) if grouping else []
            latency = histogram_percentiles(
                needs,
                hist,
                [func.width_bucket(day_start(hist.day), edges).label("bucket"), *latency_keys],
                grouping_sets=None if sets is None else sets.replace("(bucket", "(log_bucket, bucket"),
                mask=func.grouping(*latency_keys).label("grouping_mask") if latency_keys else None,
            )
            joined = ["bucket", *[key.name for key in keys], *(["grouping_mask"] if keys else [])]
            statement = select(with_percentiles(statement.subquery("sums"), latency, joined).subquery("rows"))
        connection = await session.connection()  # Core rows: the ORM's row loading took a fifth of an hourly series
        result = await connection.execute(
            (statement if columns_only else statement.order_by(*order)).limit(MAX_SERIES_ROWS + 1)
        )
        rows = result.all()
        if len(rows) > MAX_SERIES_ROWS:
            raise BadUserInput.of("groupBy", f"more than {MAX_SERIES_ROWS} bucket groups: narrow the filter or range")
        return SeriesRows(bounds=bounds, keys=len(keys), rows=rows, columns=tuple(result.keys()))


def bucket_number(source: Source, bounds: Sequence[datetime], edges: Any) -> ColumnElement[int]:
    """Each row's bucket, 1 for the first: `width_bucket` over the bounds; when every bucket is one hour of the
    hourly rollup, the row's hour counted from the first (width_bucket's binary search through 720 bounds,
    ten timestamp comparisons a row, was a third of an hourly series' SQL at 10M events)."""
    if source.bucket == "hour" and not source.parts and one_hour_apart(bounds):
        first = bindparam("first_hour", int(bounds[0].timestamp()) // 3600, type_=BigInteger)
        hours = cast(func.date_part("epoch", source.time()), BigInteger) // 3600
        return hours - first + 1
    return func.width_bucket(source.time(), edges)


def one_hour_apart(bounds: Sequence[datetime]) -> bool:
    """Whether the bounds are whole UTC hours, each an hour after the one before."""
    moments = [bound.timestamp() for bound in bounds]
    return bool(moments) and moments[0] % 3600 == 0 and all(b - a == 3600 for a, b in pairwise(moments))


def buckets_of(read: SeriesRows) -> list[TimeBucket]:
    """The rows as buckets of metrics, empty buckets as zeros; groups in the statement's order (most cost first)."""
    totals: dict[int, UsageMetrics] = {}
    groups: dict[int, list[DimensionGroup]] = {}
    metrics = metrics_reader(read.columns)
    for row in read.rows:
        if read.keys and row.grouping_mask == 0:
            values = tuple(row[1 : 1 + read.keys])  # the columns after the bucket
            groups.setdefault(row.bucket, []).append(DimensionGroup(values=values, metrics=metrics(row)))
        else:
            totals[row.bucket] = metrics(row)
    bounds = read.bounds
    return [
        TimeBucket(
            start=bounds[i - 1],
            end=bounds[i],
            metrics=totals.get(i, UsageMetrics.empty()),
            groups=groups.get(i, []),
        )
        for i in range(1, len(bounds))
    ]
