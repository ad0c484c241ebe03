"""The GraphQL type of usageTimeSeries: the same series as buckets or as columns, each built only when asked."""

from __future__ import annotations

import strawberry

from modules.usage.analytics.column_types import UsageSeriesColumnsType
from modules.usage.analytics.dimensions import UsageDimension
from modules.usage.analytics.series import TimeInterval, TimeSeries
from modules.usage.analytics.series_columns import columns_of
from modules.usage.analytics.types import UsageBucketType


@strawberry.type(name="UsageTimeSeries")
class UsageTimeSeriesType:
    interval: TimeInterval
    time_zone: str
    series: strawberry.Private[TimeSeries]
    dimensions: strawberry.Private[tuple[UsageDimension, ...]]

    @strawberry.field(description="One object per bucket, each with its groups.")
    def buckets(self) -> list[UsageBucketType]:
        workspace_id = self.series.workspace_id
        return [UsageBucketType.from_model(b, self.dimensions, workspace_id) for b in self.series.buckets]

    @strawberry.field(
        description="The same series as columns: one list per metric and group, indexed like starts (for charts of "
        "many buckets: no object per bucket and group)."
    )
    def columns(self, info: strawberry.Info) -> UsageSeriesColumnsType:
        return UsageSeriesColumnsType.of(columns_of(self.series.read), self.dimensions, info)
