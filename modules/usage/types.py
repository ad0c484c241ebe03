"""GraphQL output types of the usage module, each built from plain data by one `from_model`."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from modules.core.pagination import PageInfo
from modules.core.scalars import BigInt
from modules.providers.types import CostSourceType
from modules.usage import records
from modules.usage.analytics.dimensions import UsageDimension
from modules.usage.analytics.metrics import UsageMetric
from modules.usage.analytics.series import TimeBucket, TimeInterval
from modules.usage.inputs import UsageStatusType
from modules.users.types import UserType


def plain_fields(record: Any) -> dict[str, Any]:
    """A dataclass's fields by name, values as they are (asdict deep-copies every value: the slowest part of
    answering a series of thousands of groups)."""
    return {name: getattr(record, name) for name in field_names(type(record))}


@cache
def field_names(record_type: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(record_type))


@strawberry.type(name="UsageEvent", description="One stored LLM call.")
class UsageEventType:
    id: strawberry.ID
    workspace_id: strawberry.ID
    request_id: str
    occurred_at: datetime
    received_at: datetime
    provider: str
    model: str
    provider_instance_id: strawberry.ID | None
    task_type: str | None
    user_id: str | None
    session_id: str | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: BigInt
    cached_prompt_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    input_cost_usd: Decimal | None
    output_cost_usd: Decimal | None
    cost_usd: Decimal | None = strawberry.field(description="Null when the model is unknown (UNKNOWN_MODEL).")
    cost_source: CostSourceType
    duration_ms: int | None
    time_to_first_token_ms: int | None
    tokens_per_second: float | None = strawberry.field(description="completionTokens / duration, in seconds.")
    status: UsageStatusType
    error_type: str | None
    error_message: str | None
    retry_count: int
    streamed: bool | None
    tags: JSON

    @classmethod
    def from_model(cls, event: records.UsageEvent) -> UsageEventType:
        values = plain_fields(event)
        values["id"] = strawberry.ID(str(event.id))
        values["workspace_id"] = strawberry.ID(str(event.workspace_id))
        values["provider_instance_id"] = (
            strawberry.ID(str(event.provider_instance_id)) if event.provider_instance_id else None
        )
        values["tokens_per_second"] = event.tokens_per_second
        return cls(**values)


@strawberry.type(name="UsageMetrics", description="Sums and latency statistics of a set of events.")
class UsageMetricsType:
    calls: BigInt
    success_count: BigInt
    error_count: BigInt
    error_rate: float = strawberry.field(description="errorCount / calls; 0 without calls.")
    prompt_tokens: BigInt
    completion_tokens: BigInt
    cached_prompt_tokens: BigInt
    cache_write_tokens: BigInt
    reasoning_tokens: BigInt
    total_tokens: BigInt
    cost_usd: Decimal = strawberry.field(description="Unknown-model calls count as 0 here; see unpricedCalls.")
    unpriced_calls: BigInt
    avg_cost_per_call: Decimal | None = strawberry.field(description="costUsd / calls, to 10 decimals.")
    distinct_users: BigInt = strawberry.field(description="How many different userIds made these calls.")
    avg_duration_ms: float | None
    p50_duration_ms: float | None = strawberry.field(
        description="Percentiles are exact (percentile_cont, interpolated) over the calls with a duration."
    )
    p90_duration_ms: float | None
    p95_duration_ms: float | None
    p99_duration_ms: float | None
    avg_time_to_first_token_ms: float | None
    p50_time_to_first_token_ms: float | None
    p95_time_to_first_token_ms: float | None
    avg_tokens_per_second: float | None = strawberry.field(
        description="Completion tokens per second over all timed calls: sum(tokens) / sum(duration)."
    )

    @classmethod
    def from_model(cls, metrics: records.UsageMetrics) -> UsageMetricsType:
        return cls(**plain_fields(metrics), error_rate=metrics.error_rate, avg_cost_per_call=metrics.avg_cost_per_call)


@strawberry.type(name="UsageGroup")
class UsageGroupType:
    key: str | None = strawberry.field(description="The group's value; null for events without one.")
    metrics: UsageMetricsType

    @classmethod
    def from_model(cls, group: records.UsageGroup) -> UsageGroupType:
        return cls(key=group.key, metrics=UsageMetricsType.from_model(group.metrics))


@strawberry.enum
class UsageComparison(Enum):
    PREVIOUS_PERIOD = "PREVIOUS_PERIOD"


def percent_change(now: float | Decimal | None, before: float | Decimal | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return round(float((Decimal(str(now)) - Decimal(str(before))) * 100 / Decimal(str(before))), 4)


@strawberry.type(
    name="UsageChange",
    description="Change from the previous period, in percent of the previous value (null when it was 0 or none).",
)
class UsageChangeType:
    calls: float | None
    cost_usd: float | None
    total_tokens: float | None
    error_rate: float | None
    distinct_users: float | None
    avg_duration_ms: float | None
    p95_duration_ms: float | None

    @classmethod
    def between(cls, now: records.UsageMetrics, before: records.UsageMetrics) -> UsageChangeType:
        return cls(
            calls=percent_change(now.calls, before.calls),
            cost_usd=percent_change(now.cost_usd, before.cost_usd),
            total_tokens=percent_change(now.total_tokens, before.total_tokens),
            error_rate=percent_change(now.error_rate, before.error_rate),
            distinct_users=percent_change(now.distinct_users, before.distinct_users),
            avg_duration_ms=percent_change(now.avg_duration_ms, before.avg_duration_ms),
            p95_duration_ms=percent_change(now.p95_duration_ms, before.p95_duration_ms),
        )


@strawberry.type(name="UsageAnalytics", description="Groups are ordered by cost, then calls, descending.")
class UsageAnalyticsType:
    totals: UsageMetricsType
    by_provider: list[UsageGroupType]
    by_model: list[UsageGroupType]
    by_task_type: list[UsageGroupType]
    previous: UsageMetricsType | None = strawberry.field(
        description="With compareTo: PREVIOUS_PERIOD, the totals of the period of the same length just before."
    )
    change: UsageChangeType | None = strawberry.field(description="With compareTo: totals against previous.")

    @classmethod
    def from_model(cls, breakdown: records.UsageBreakdown) -> UsageAnalyticsType:
        previous = breakdown.previous
        return cls(
            totals=UsageMetricsType.from_model(breakdown.totals),
            by_provider=[UsageGroupType.from_model(g) for g in breakdown.by_provider],
            by_model=[UsageGroupType.from_model(g) for g in breakdown.by_model],
            by_task_type=[UsageGroupType.from_model(g) for g in breakdown.by_task_type],
            previous=UsageMetricsType.from_model(previous) if previous else None,
            change=UsageChangeType.between(breakdown.totals, previous) if previous else None,
        )


@strawberry.type
class UsageEventEdge:
    cursor: str
    node: UsageEventType


@strawberry.type
class UsageEventConnection:
    edges: list[UsageEventEdge]
    page_info: PageInfo
    spec: strawberry.Private[records.UsageFilterSpec]

    @strawberry.field(description="How many events match the filter (one extra query: ask only if shown).")
    async def total_count(self, info: strawberry.Info) -> BigInt:
        return BigInt(await info.context.analytics.count(self.spec))


@strawberry.type
class TrackUsagePayload:
    event: UsageEventType | None = strawberry.field(
        description="The stored event; null for a duplicate when the key cannot READ (the stored event may not be "
        "the caller's: any request id can be guessed)."
    )
    duplicate: bool = strawberry.field(description="True when this requestId was stored before; nothing changed.")


@strawberry.type
class TrackUsageBatchPayload:
    events: list[UsageEventType | None] = strawberry.field(
        description="One per input, in input order; null for a duplicate when the key cannot READ."
    )
    duplicates: list[bool] = strawberry.field(description="For each input, whether it was stored before.")
    inserted_count: int
    duplicate_count: int


@strawberry.type(name="UnpricedModel", description="A provider/model stored without a price (UNKNOWN_MODEL).")
class UnpricedModelType:
    provider: str
    model: str
    calls: BigInt
    first_seen: datetime
    last_seen: datetime

    @classmethod
    def from_model(cls, unpriced: records.UnpricedModel) -> UnpricedModelType:
        return cls(**plain_fields(unpriced))


@strawberry.type(name="RecostResult", description="What recostUsage changed; caller-priced events are never touched.")
class RecostResultType:
    examined: BigInt
    changed: BigInt
    cost_before_usd: Decimal
    cost_after_usd: Decimal

    @classmethod
    def from_model(cls, result: records.RecostResult) -> RecostResultType:
        return cls(**plain_fields(result))


UsageDimensionType = strawberry.enum(UsageDimension, name="UsageDimension")
UsageMetricType = strawberry.enum(UsageMetric, name="UsageMetric", description="A metric to order groups by.")


@strawberry.enum
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input(description="Order groups by a metric. Default: COST_USD, DESC (ties: CALLS, then the values).")
class UsageOrder:
    by: UsageMetricType = UsageMetric.COST_USD
    direction: SortDirection = SortDirection.DESC


@strawberry.type(name="DimensionValue")
class DimensionValueType:
    dimension: UsageDimensionType
    value: str | None = strawberry.field(description="Null for events without one (no task type, no user…).")


@strawberry.type(name="UsageDimensionGroup", description="One group: its value of each requested dimension.")
class UsageDimensionGroupType:
    dimensions: list[DimensionValueType] = strawberry.field(description="In the order of groupBy.")
    metrics: UsageMetricsType
    user_id: strawberry.Private[str | None]
    workspace_id: strawberry.Private[UUID]

    @strawberry.field(description="The value of one dimension (null if not grouped by it, or none).")
    def value(self, dimension: UsageDimensionType) -> str | None:
        return next((d.value for d in self.dimensions if d.dimension == dimension), None)

    @strawberry.field(description="With the USER dimension: the end user's name and email (batched, no N+1).")
    async def user(self, info: strawberry.Info) -> UserType | None:
        if self.user_id is None:
            return None
        found = await info.context.user_loader.load((self.workspace_id, self.user_id))
        return UserType.from_model(found) if found else None

    @classmethod
    def from_model(
        cls, group: records.DimensionGroup, dimensions: tuple[UsageDimension, ...], workspace_id: UUID
    ) -> UsageDimensionGroupType:
        values = dict(zip(dimensions, group.values, strict=True))
        return cls(
            dimensions=[DimensionValueType(dimension=d, value=v) for d, v in values.items()],
            metrics=UsageMetricsType.from_model(group.metrics),
            user_id=values.get(UsageDimension.USER),
            workspace_id=workspace_id,
        )


@strawberry.type(name="GroupedUsage", description="The first `limit` groups; `others` sums all the rest.")
class GroupedUsageType:
    groups: list[UsageDimensionGroupType]
    others: UsageMetricsType | None = strawberry.field(
        description="The events of every group beyond `limit`, summed (null when none were left out): groups "
        "plus others add up to the totals."
    )

    @classmethod
    def from_model(cls, grouped: records.GroupedUsage, dimensions: tuple[UsageDimension, ...]) -> GroupedUsageType:
        return cls(
            groups=[UsageDimensionGroupType.from_model(g, dimensions, grouped.workspace_id) for g in grouped.groups],
            others=UsageMetricsType.from_model(grouped.others) if grouped.others else None,
        )


TimeIntervalType = strawberry.enum(TimeInterval, name="TimeInterval")


@strawberry.type(name="UsageBucket", description="One time bucket: [start, end) in the caller's time zone.")
class UsageBucketType:
    start: datetime
    end: datetime
    metrics: UsageMetricsType
    groups: list[UsageDimensionGroupType] = strawberry.field(description="Empty unless groupBy was given.")

    @classmethod
    def from_model(
        cls, bucket: TimeBucket, dimensions: tuple[UsageDimension, ...], workspace_id: UUID
    ) -> UsageBucketType:
        return cls(
            start=bucket.start,
            end=bucket.end,
            metrics=UsageMetricsType.from_model(bucket.metrics),
            groups=[UsageDimensionGroupType.from_model(g, dimensions, workspace_id) for g in bucket.groups],
        )


@strawberry.type(name="UsageTimeSeries")
class UsageTimeSeriesType:
    interval: TimeIntervalType
    time_zone: str
    buckets: list[UsageBucketType]
