"""Where sums are read from: the events themselves, or a rollup (rollups.py) when it can answer exactly.
Every source gives the same column names, conditions and metric labels, so each summing query is written
once; `source_for` picks the smallest source that holds what a query filters, groups and measures by, at
the window's bounds (split.py reads other windows as rollup days and hours plus the events at the edges)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Float,
    Numeric,
    SQLColumnExpression,
    cast,
    func,
    literal,
    null,
)
from sqlalchemy.dialects.postgresql import ARRAY

from modules.usage.analytics.dimensions import DIMENSION_COLUMNS, UsageDimension
from modules.usage.analytics.metrics import ALL_METRICS, TOKEN_COLUMNS, MetricNeeds, metric_columns, pruned
from modules.usage.filter.conditions import column_conditions, filter_conditions, filtered_columns
from modules.usage.models import (
    DailyLatencyRow,
    DailyUsageRow,
    DailyUserUsageRow,
    HourlyUsageRow,
    WeeklyLatencyRow,
    WeeklyUserUsageRow,
)
from modules.usage.models import UsageEventRow as Event
from modules.usage.records import UsageFilterSpec


@dataclass(frozen=True)
class Source:
    table: Any
    bucket: str | None = None  # the rollup's time column ("hour", "day" or "week"); None for the events
    # A split window (split.py): `table` is the union of `parts` as rows of the rollup `shape`, each part
    # under the query's conditions already.
    shape: Any = None
    parts: tuple[Any, ...] = field(default=(), compare=False)

    @property
    def rollup(self) -> bool:
        return self.bucket is not None

    def answers(
        self,
        spec: UsageFilterSpec,
        needs: MetricNeeds,
        dimensions: Sequence[UsageDimension] = (),
        bounds: Sequence[datetime] = (),
        percentile_dimensions: Sequence[UsageDimension] | None = None,
    ) -> bool:
        """Whether this source gives the events' answer: it has a column for every condition and dimension,
        its buckets fit every time bound, and percentiles, if asked (by `percentile_dimensions`, default all
        `dimensions`), come from the latency histograms over the same filter (within 2%: histograms.py)."""
        if not self.rollup:
            return True
        ends = [m for m in (spec.start, spec.end) if m is not None]
        if (needs.duration_percentiles or needs.ttft_percentiles) and not all(map(HISTOGRAMS.aligned, ends)):
            return False
        return self.holds(spec, needs, dimensions, bounds, percentile_dimensions) and all(map(self.aligned, ends))

    def holds(
        self,
        spec: UsageFilterSpec,
        needs: MetricNeeds,
        dimensions: Sequence[UsageDimension] = (),
        bounds: Sequence[datetime] = (),
        percentile_dimensions: Sequence[UsageDimension] | None = None,
    ) -> bool:
        """answers() but for the window's ends: what a split window (split.py) reads this source for."""
        if not self.rollup:
            return True
        if needs.duration_percentiles or needs.ttft_percentiles:
            by = dimensions if percentile_dimensions is None else percentile_dimensions
            if not HISTOGRAMS.holds(spec, SUMS_ONLY, by, bounds):
                return False
        if needs.distinct_users and not self._has("user_id"):
            return False
        if spec.tags or not all(self._has(column) for column in filtered_columns(spec)):
            return False
        if self._has("user_id"):  # holds only the events that name a user: the query must want only those
            if not (spec.with_user or spec.user_id is not None or spec.user_ids is not None):
                return False
        elif spec.with_user:
            return False
        if not all(d in DIMENSION_COLUMNS and self._has(DIMENSION_COLUMNS[d]) for d in dimensions):
            return False
        return all(self.aligned(m) for m in bounds)

    def conditions(self, spec: UsageFilterSpec) -> list[ColumnElement[bool]]:
        if not self.rollup:
            return filter_conditions(spec)
        if self.parts:
            return []  # each part has them (where its indexes serve them)
        found = column_conditions(spec, self.table)
        column = getattr(self.table, str(self.bucket))
        if spec.start is not None:  # aligned to the buckets: answers() checked it
            found.append(column >= self._bucket_of(spec.start))
        if spec.end is not None:
            found.append(column < self._bucket_of(spec.end))
        return found

    def time(self) -> SQLColumnExpression[datetime]:
        """The moment a row stands for: the event's, or the start (UTC) of its rollup bucket."""
        if not self.rollup:
            return Event.occurred_at
        if self.bucket == "hour":
            hour: SQLColumnExpression[datetime] = self.table.hour
            return hour
        return day_start(getattr(self.table, str(self.bucket)))  # a day, or the Monday a week starts on

    def metrics(self, needs: MetricNeeds = ALL_METRICS) -> list[ColumnElement[Any]]:
        """The labels of metric_columns; on a rollup, the metrics it cannot hold are null (and never asked)."""
        if not self.rollup:
            return metric_columns(needs)
        t = self.table
        throughput = func.sum(t.timed_completion_tokens) * 1000.0 / func.nullif(func.sum(t.timed_duration_sum), 0)
        counts_users = needs.distinct_users and self._has("user_id")
        distinct_users = func.count(t.user_id.distinct()) if counts_users else literal(0, BigInteger)
        return pruned(
            [
                func.coalesce(func.sum(t.calls), 0).cast(BigInteger).label("calls"),
                func.coalesce(func.sum(t.success_count), 0).cast(BigInteger).label("success_count"),
                func.coalesce(func.sum(t.error_count), 0).cast(BigInteger).label("error_count"),
                *[func.coalesce(func.sum(getattr(t, name)), 0).cast(BigInteger).label(name) for name in TOKEN_COLUMNS],
                func.coalesce(func.sum(t.cost_usd), 0).label("cost_usd"),
                func.coalesce(func.sum(t.unpriced_calls), 0).cast(BigInteger).label("unpriced_calls"),
                distinct_users.label("distinct_users"),
                mean(t.duration_sum, t.duration_count).label("avg_duration_ms"),
                cast(null(), ARRAY(Float)).label("duration_percentiles"),
                mean(t.ttft_sum, t.ttft_count).label("avg_time_to_first_token_ms"),
                cast(null(), ARRAY(Float)).label("ttft_percentiles"),
                throughput.cast(Float).label("avg_tokens_per_second"),
                func.coalesce(func.sum(t.retries), 0).cast(BigInteger).label("retries"),
            ],
            needs,
        )

    def _has(self, column: str) -> bool:
        return column in (self.shape or self.table).__table__.columns

    def aligned(self, moment: datetime) -> bool:
        utc = moment.astimezone(UTC)
        if self.bucket == "hour":
            return utc.minute == 0 and utc.second == 0 and utc.microsecond == 0
        midnight = utc.timetz() == time(0, tzinfo=UTC)
        return midnight and (self.bucket != "week" or utc.weekday() == 0)

    def _bucket_of(self, moment: datetime) -> Any:
        utc = moment.astimezone(UTC)
        return utc if self.bucket == "hour" else utc.date()


def day_start(day: Any) -> SQLColumnExpression[datetime]:
    """The moment (UTC) a `day` column's day starts."""
    return cast(func.timezone("UTC", cast(day, DateTime)), DateTime(timezone=True))


def mean(total: Any, count: Any) -> ColumnElement[Any]:
    """avg() of the events, from sums and counts (numeric division, as avg over integers does)."""
    return (cast(func.sum(total), Numeric) / func.nullif(func.sum(count), 0)).cast(Float)


EVENTS = Source(Event)
DAILY = Source(DailyUsageRow, "day")
HOURLY = Source(HourlyUsageRow, "hour")
USER_DAILY = Source(DailyUserUsageRow, "day")
USER_WEEKLY = Source(WeeklyUserUsageRow, "week")
# Percentiles only: counts per latency bucket beside a rollup's sums (histograms.py), never a source of sums.
HISTOGRAMS = Source(DailyLatencyRow, "day")
HISTOGRAMS_WEEKLY = Source(WeeklyLatencyRow, "week")
SUMS_ONLY = MetricNeeds(duration_percentiles=False, ttft_percentiles=False, distinct_users=False, sums=frozenset())
# Smallest first: a daily row sums what up to 24 hourly rows do, a weekly one what 7 daily ones do; per-user rows
# answer only per-user questions.
ROLLUPS = (DAILY, HOURLY, USER_WEEKLY, USER_DAILY)
# The rollup of the same rows by a finer bucket: what a split window (split.py) reads at the edges of the
# coarser one's buckets.
FINER = {DAILY: HOURLY, USER_WEEKLY: USER_DAILY, HISTOGRAMS_WEEKLY: HISTOGRAMS}
COARSER = {finer: coarser for coarser, finer in FINER.items()}


def source_for(
    spec: UsageFilterSpec,
    needs: MetricNeeds,
    dimensions: Sequence[UsageDimension] = (),
    bounds: Sequence[datetime] = (),
    percentile_dimensions: Sequence[UsageDimension] | None = None,
) -> Source:
    """The first rollup that answers (percentiles from the histograms beside it), else the events."""
    for source in ROLLUPS:
        if source.answers(spec, needs, dimensions, bounds, percentile_dimensions):
            return source
    return EVENTS
