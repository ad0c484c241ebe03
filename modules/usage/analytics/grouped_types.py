"""GraphQL output types of `usage`: the groups as objects, or as columns (one list per dimension and metric)."""

from __future__ import annotations

from typing import Any

import strawberry

from modules.usage import records
from modules.usage.analytics.column_types import UsageMetricColumnsType, selected_metrics
from modules.usage.analytics.dimensions import UsageDimension
from modules.usage.analytics.types import UsageDimensionGroupType
from modules.usage.types import UsageMetricsType


@strawberry.type(name="DimensionColumn", description="One dimension's value for each group, indexed like them.")
class DimensionColumnType:
    dimension: UsageDimension
    values: list[str | None] = strawberry.field(description="Null for events without one.")


@strawberry.type(
    name="UsageGroupColumns",
    description="The groups as columns: each dimension and each metric one list, indexed like the groups (what "
    "a table or a bar chart reads, without an object per group).",
)
class UsageGroupColumnsType:
    dimensions: list[DimensionColumnType] = strawberry.field(description="In the order of groupBy.")
    metrics: UsageMetricColumnsType


@strawberry.type(name="GroupedUsage", description="The first `limit` groups; `others` sums all the rest.")
class GroupedUsageType:
    others: UsageMetricsType | None = strawberry.field(
        description="The events of every group beyond `limit`, summed (null when none were left out): groups "
        "plus others add up to the totals."
    )
    grouped: strawberry.Private[records.GroupedUsage]
    dimension_order: strawberry.Private[tuple[UsageDimension, ...]]

    @strawberry.field(description="In the order asked (orderBy, then most calls, then by value).")
    def groups(self) -> list[UsageDimensionGroupType]:
        workspace_id = self.grouped.workspace_id
        return [UsageDimensionGroupType.from_model(g, self.dimension_order, workspace_id) for g in self.grouped.groups]

    @strawberry.field(
        description="The same groups in the same order as columns, only the selected metrics listed: no object "
        "per group (at 480 groups, under half the server's CPU of the plain fields)."
    )
    def columns(self, info: strawberry.Info[Any]) -> UsageGroupColumnsType:
        groups = self.grouped.groups
        return UsageGroupColumnsType(
            dimensions=[
                DimensionColumnType(dimension=d, values=[g.values[i] for g in groups])
                for i, d in enumerate(self.dimension_order)
            ],
            metrics=UsageMetricColumnsType.of_metrics([g.metrics for g in groups], selected_metrics(info)),
        )

    @classmethod
    def from_model(cls, grouped: records.GroupedUsage, dimensions: tuple[UsageDimension, ...]) -> GroupedUsageType:
        return cls(
            others=UsageMetricsType.from_model(grouped.others) if grouped.others else None,
            grouped=grouped,
            dimension_order=dimensions,
        )
