"""Where sums are read from: the events themselves, or the daily rollup when it can answer (rollups.py).
Both give the same column names, conditions and metric labels, so every summing query is written once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, DateTime, Float, Numeric, cast, func, literal, null
from sqlalchemy.dialects.postgresql import ARRAY

from modules.usage.filters import filter_conditions, shared_conditions
from modules.usage.metrics import ALL_METRICS, TOKEN_COLUMNS, MetricNeeds, metric_columns
from modules.usage.models import DailyUsageRow as Daily
from modules.usage.models import UsageEventRow as Event
from modules.usage.records import UsageFilterSpec


@dataclass(frozen=True)
class Source:
    rollup: bool

    @property
    def table(self) -> Any:
        return Daily if self.rollup else Event

    def conditions(self, spec: UsageFilterSpec) -> list[ColumnElement[bool]]:
        if not self.rollup:
            return filter_conditions(spec)
        found = shared_conditions(spec, Daily)
        if spec.start is not None:  # whole UTC days: rollup_answers() checked it
            found.append(Daily.day >= spec.start.astimezone(UTC).date())
        if spec.end is not None:
            found.append(Daily.day < spec.end.astimezone(UTC).date())
        return found

    def time(self) -> ColumnElement[Any]:
        """The moment a row stands for: the event's, or its day's UTC midnight."""
        if not self.rollup:
            return Event.occurred_at
        return cast(func.timezone("UTC", cast(Daily.day, DateTime)), DateTime(timezone=True))

    def metrics(self, needs: MetricNeeds = ALL_METRICS) -> list[ColumnElement[Any]]:
        """The labels of metric_columns; on the rollup, the metrics it cannot hold are null (and never asked)."""
        if not self.rollup:
            return metric_columns(needs)
        throughput = (
            func.sum(Daily.timed_completion_tokens) * 1000.0 / func.nullif(func.sum(Daily.timed_duration_sum), 0)
        )
        return [
            func.coalesce(func.sum(Daily.calls), 0).cast(BigInteger).label("calls"),
            func.coalesce(func.sum(Daily.success_count), 0).cast(BigInteger).label("success_count"),
            func.coalesce(func.sum(Daily.error_count), 0).cast(BigInteger).label("error_count"),
            *[func.coalesce(func.sum(getattr(Daily, name)), 0).cast(BigInteger).label(name) for name in TOKEN_COLUMNS],
            func.coalesce(func.sum(Daily.cost_usd), 0).label("cost_usd"),
            func.coalesce(func.sum(Daily.unpriced_calls), 0).cast(BigInteger).label("unpriced_calls"),
            literal(0, BigInteger).label("distinct_users"),
            mean(Daily.duration_sum, Daily.duration_count).label("avg_duration_ms"),
            cast(null(), ARRAY(Float)).label("duration_percentiles"),
            mean(Daily.ttft_sum, Daily.ttft_count).label("avg_time_to_first_token_ms"),
            cast(null(), ARRAY(Float)).label("ttft_percentiles"),
            throughput.cast(Float).label("avg_tokens_per_second"),
        ]


def mean(total: Any, count: Any) -> ColumnElement[Any]:
    """avg() of the events, from sums and counts (numeric division, as avg over integers does)."""
    return (cast(func.sum(total), Numeric) / func.nullif(func.sum(count), 0)).cast(Float)


EVENTS = Source(rollup=False)
DAILY = Source(rollup=True)
