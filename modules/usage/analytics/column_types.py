"""GraphQL output types of a time series as columns (series_columns.py): UsageMetrics' fields, each a list."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from modules.core.scalars import BigInt
from modules.usage.analytics.dimensions import UsageDimension
from modules.usage.analytics.selection import child_fields, selected_names
from modules.usage.analytics.series_columns import Positions, SeriesColumns, Slots, metric_columns
from modules.usage.analytics.types import DimensionValueType
from modules.usage.records import UsageMetrics


@strawberry.type(
    name="UsageMetricColumns",
    description="The fields of UsageMetrics, each a list with one value per bucket (indexed like starts); "
    "an empty bucket holds zeros and nulls.",
)
class UsageMetricColumnsType:
    calls: list[BigInt]
    success_count: list[BigInt]
    error_count: list[BigInt]
    error_rate: list[float]
    retries: list[BigInt]
    prompt_tokens: list[BigInt]
    completion_tokens: list[BigInt]
    cached_prompt_tokens: list[BigInt]
    cache_write_tokens: list[BigInt]
    reasoning_tokens: list[BigInt]
    total_tokens: list[BigInt]
    audio_tokens: list[BigInt]
    cost_usd: list[Decimal]
    unpriced_calls: list[BigInt]
    avg_cost_per_call: list[Decimal | None]
    distinct_users: list[BigInt]
    avg_duration_ms: list[float | None]
    p50_duration_ms: list[float | None]
    p90_duration_ms: list[float | None]
    p95_duration_ms: list[float | None]
    p99_duration_ms: list[float | None]
    avg_time_to_first_token_ms: list[float | None]
    p50_time_to_first_token_ms: list[float | None]
    p95_time_to_first_token_ms: list[float | None]
    avg_tokens_per_second: list[float | None]

    @classmethod
    def of(cls, slots: Slots, selected: frozenset[str], at: Positions) -> UsageMetricColumnsType:
        """Only the `selected` metrics (python names) are computed; the others, never resolved, stay empty."""
        computed = metric_columns(slots, selected, at)
        return cls(**{name: computed.get(name, []) for name in FIELD_NAMES})

    @classmethod
    def of_metrics(cls, metrics: list[UsageMetrics], selected: frozenset[str]) -> UsageMetricColumnsType:
        """The `selected` metrics (python names) of each of `metrics`; the others, never resolved, stay empty."""
        return cls(**{name: [getattr(m, name) for m in metrics] if name in selected else [] for name in FIELD_NAMES})


METRIC_FIELDS = {  # GraphQL name → python name
    to_camel_case(field.python_name): field.python_name
    for field in UsageMetricColumnsType.__strawberry_definition__.fields  # type: ignore[attr-defined]
}
FIELD_NAMES = tuple(METRIC_FIELDS.values())


def selected_metrics(info: strawberry.Info[Any]) -> frozenset[str]:
    """The UsageMetricColumns fields (python names) selected anywhere under the resolved field."""
    return frozenset(METRIC_FIELDS[name] for name in set(selected_names(info.selected_fields)) & METRIC_FIELDS.keys())


@strawberry.type(name="UsageSeriesGroup", description="One group of groupBy over the whole range.")
class UsageSeriesGroupType:
    dimensions: list[DimensionValueType] = strawberry.field(description="In the order of groupBy.")
    metrics: UsageMetricColumnsType


@strawberry.type(
    name="UsageSeriesColumns",
    description="The series as columns: each metric one list per group, indexed like starts (what a chart "
    "draws, without an object per bucket and group).",
)
class UsageSeriesColumnsType:
    starts: list[datetime] = strawberry.field(description="Each bucket's start; a bucket ends where the next starts.")
    end: datetime = strawberry.field(description="The last bucket's end.")
    totals: UsageMetricColumnsType = strawberry.field(description="Every event of each bucket.")
    groups: list[UsageSeriesGroupType] = strawberry.field(
        description="Empty unless groupBy was given; one per group with calls in the range, most cost over the "
        "range first, then most calls."
    )

    @classmethod
    def of(
        cls, columns: SeriesColumns, dimensions: tuple[UsageDimension, ...], info: strawberry.Info[Any]
    ) -> UsageSeriesColumnsType:
        selected, totals, at = selected_metrics(info), columns.totals, columns.positions
        return cls(
            starts=columns.starts,
            end=columns.end,
            # Unselected, the totals are not built (and, grouped, not even read: UsageQuery.usage_time_series).
            totals=UsageMetricColumnsType.of(totals if "totals" in child_fields(info) else [], selected, at),
            groups=[
                UsageSeriesGroupType(
                    dimensions=[
                        DimensionValueType(dimension=d, value=v) for d, v in zip(dimensions, g.values, strict=True)
                    ],
                    metrics=UsageMetricColumnsType.of(g.slots, selected, columns.positions),
                )
                for g in columns.groups
            ],
        )
