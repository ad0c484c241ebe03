"""GraphQL output types of the usage queries: analytics, groups, series, event pages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry

from modules.core.dataclass_builder import build_dataclass
from modules.core.pagination import PageInfo
from modules.core.scalars import BigInt
from modules.usage import records
from modules.usage.analytics.dimensions import UsageDimension
from modules.usage.analytics.metrics import SortMetric
from modules.usage.analytics.series import TimeBucket, TimeInterval
from modules.usage.types import UsageEventType, UsageMetricsType, plain_fields
from modules.users import UserType


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


# strawberry.enum marks the class in place: fields annotate with the class itself, in types decorated after
# this (strawberry resolves a field's type when its class is decorated).
strawberry.enum(UsageDimension, name="UsageDimension")
strawberry.enum(SortMetric, name="UsageMetric", description="A metric to order groups by.")


@strawberry.enum
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.type(name="DimensionValue")
class DimensionValueType:
    dimension: UsageDimension
    value: str | None = strawberry.field(description="Null for events without one (no task type, no user…).")


def dimension_field(dimension: UsageDimension) -> Any:
    return strawberry.field(
        default=None,
        description=f"With {dimension.value} in groupBy, the group's value of it; null otherwise or for events "
        "without one.",
    )


@strawberry.type(
    name="UsageDimensionGroup",
    description="One group: its value of each requested dimension, as a list and as a field of its own.",
)
class UsageDimensionGroupType:
    dimensions: list[DimensionValueType] = strawberry.field(description="In the order of groupBy.")
    metrics: UsageMetricsType
    workspace_id: strawberry.Private[UUID]
    # One plain field a dimension (GROUP_FIELDS): a field without arguments is ~10 µs a group cheaper to
    # answer than value(dimension:), whose argument strawberry coerces and converts for every group.
    provider: str | None = dimension_field(UsageDimension.PROVIDER)
    provider_instance_id: str | None = dimension_field(UsageDimension.PROVIDER_INSTANCE)
    model: str | None = dimension_field(UsageDimension.MODEL)
    catalogue_model: str | None = dimension_field(UsageDimension.CATALOGUE_MODEL)
    task_type: str | None = dimension_field(UsageDimension.TASK_TYPE)
    user_id: str | None = dimension_field(UsageDimension.USER)
    session_id: str | None = dimension_field(UsageDimension.SESSION)
    status: str | None = dimension_field(UsageDimension.STATUS)
    error_type: str | None = dimension_field(UsageDimension.ERROR_TYPE)
    tag: str | None = dimension_field(UsageDimension.TAG)

    @strawberry.field(description="The value of one dimension (null if not grouped by it, or none).")
    def value(self, dimension: UsageDimension) -> str | None:
        value: str | None = getattr(self, GROUP_FIELDS[dimension])
        return value

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
        return build_dataclass(  # built for each of hundreds of groups: at a third of __init__'s cost
            cls,
            {
                "dimensions": [DimensionValueType(dimension=d, value=v) for d, v in values.items()],
                "metrics": UsageMetricsType.from_model(group.metrics),
                "workspace_id": workspace_id,
                **dict.fromkeys(GROUP_FIELDS.values()),
                **{GROUP_FIELDS[d]: v for d, v in values.items()},
            },
        )


# The plain field of UsageDimensionGroup that holds each dimension's value.
GROUP_FIELDS = {
    UsageDimension.PROVIDER: "provider",
    UsageDimension.PROVIDER_INSTANCE: "provider_instance_id",
    UsageDimension.MODEL: "model",
    UsageDimension.CATALOGUE_MODEL: "catalogue_model",
    UsageDimension.TASK_TYPE: "task_type",
    UsageDimension.USER: "user_id",
    UsageDimension.SESSION: "session_id",
    UsageDimension.STATUS: "status",
    UsageDimension.ERROR_TYPE: "error_type",
    UsageDimension.TAG: "tag",
}
assert GROUP_FIELDS.keys() == set(UsageDimension), "every dimension has its field"


strawberry.enum(TimeInterval, name="TimeInterval")  # in place, as UsageDimension above


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
