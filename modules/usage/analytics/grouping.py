"""SQL of `usage`: events grouped by any dimensions, ordered by any metric, the rest summed as `others`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CTE, ColumnElement, Text, and_, bindparam, exists, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from modules.usage.analytics.dimensions import GroupBy
from modules.usage.analytics.histograms import histogram_percentiles, wants_percentiles, with_percentiles
from modules.usage.analytics.metrics import (
    ALL_METRICS,
    MetricNeeds,
    SortMetric,
    combined,
    metrics_from_row,
    metrics_reader,
    needs_for_order,
    order_expression,
)
from modules.usage.analytics.sources import Source
from modules.usage.analytics.split import latency_rows, split_for
from modules.usage.records import DimensionGroup, GroupedUsage, UsageFilterSpec


class GroupedUsageReader:
    async def grouped(
        self,
        session: AsyncSession,
        spec: UsageFilterSpec,
        grouping: GroupBy,
        *,
        order_by: SortMetric,
        descending: bool,
        limit: int,
        needs: MetricNeeds = ALL_METRICS,
        source: Source | None = None,
        with_others: bool = True,
    ) -> GroupedUsage:
        """At most two statements: the groups (one more than asked, to know if any were left out), then (unless
        `with_others` is off) the others' metrics over the events of every group not shown, aggregated again
        so percentiles stay exact. Read from the smallest source that answers exactly, unless `source` is given."""
        needs = combined(needs, needs_for_order(order_by))
        source = source or split_for(spec, needs, grouping.dimensions)
        keys = grouping.columns(source.table)
        sums = select(*keys, *source.metrics(needs)).where(*source.conditions(spec)).group_by(*keys)
        if source.rollup and wants_percentiles(needs):
            hist = latency_rows(spec, by_model=True)
            latency = histogram_percentiles(needs, hist, grouping.columns(hist))
            grouped = with_percentiles(sums.subquery("sums"), latency, [key.name for key in keys]).subquery("g")
        else:
            grouped = sums.subquery("g")
        order = order_expression(order_by, grouped)
        statement = (
            select(grouped)
            .order_by(
                order.desc().nulls_last() if descending else order.asc().nulls_last(),
                grouped.c.calls.desc(),
                *[grouped.c[f"d{i}"].asc().nulls_last() for i in range(len(keys))],
            )
            .limit(limit + 1)
        )
        result = await session.execute(statement)
        rows, read = result.all(), metrics_reader(tuple(result.keys()))
        groups = [DimensionGroup(values=tuple(row[: len(keys)]), metrics=read(row)) for row in rows[:limit]]
        if len(rows) <= limit or not with_others:
            return GroupedUsage(workspace_id=spec.workspace_id, groups=groups, others=None)
        others = await self._others(session, spec, grouping, groups, needs, source)
        return GroupedUsage(workspace_id=spec.workspace_id, groups=groups, others=others)

    async def _others(
        self,
        session: AsyncSession,
        spec: UsageFilterSpec,
        grouping: GroupBy,
        shown: list[DimensionGroup],
        needs: MetricNeeds,
        source: Source,
    ) -> Any:
        shown_keys: CTE = select(
            *[
                func.unnest(bindparam(f"shown{i}", [g.values[i] for g in shown], type_=ARRAY(Text))).label(f"k{i}")
                for i in range(len(grouping.dimensions))
            ]
        ).cte("shown")

        def in_shown(table: Any) -> ColumnElement[bool]:
            return exists().where(
                and_(
                    *[
                        shown_keys.c[f"k{i}"].is_not_distinct_from(grouping.expression(d, table))
                        for i, d in enumerate(grouping.dimensions)
                    ]
                )
            )

        statement = select(*source.metrics(needs)).where(*source.conditions(spec), ~in_shown(source.table))
        if source.rollup and wants_percentiles(needs):
            hist = latency_rows(spec, by_model=True)
            latency = histogram_percentiles(needs, hist, where=[~in_shown(hist)])
            statement = with_percentiles(statement.subquery("sums"), latency, [])
        return metrics_from_row((await session.execute(statement)).one())
