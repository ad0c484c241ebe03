"""SQL that sums usage events. Everything is aggregated by Postgres; Python only reads the result rows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from modules.usage.analytics.dimensions import UsageDimension
from modules.usage.analytics.histograms import histogram_percentiles, wants_percentiles, with_percentiles
from modules.usage.analytics.metrics import ALL_METRICS, MetricNeeds, metrics_from_row
from modules.usage.analytics.sources import EVENTS, Source
from modules.usage.analytics.split import latency_rows, split_for
from modules.usage.filter.conditions import filter_conditions
from modules.usage.models import UsageEventRow as Event
from modules.usage.records import UnpricedModel, UsageBreakdown, UsageFilterSpec, UsageGroup, UsageMetrics

COST_ONLY = MetricNeeds(duration_percentiles=False, ttft_percentiles=False, distinct_users=False, sums=frozenset())
# usageAnalytics breaks its totals down by these; grouping(provider, model, task_type) is a bit mask of the
# columns NOT grouped by in a row's set.
BREAKDOWN_DIMENSIONS = (UsageDimension.PROVIDER, UsageDimension.MODEL, UsageDimension.TASK_TYPE)
TOTALS, BY_PROVIDER, BY_MODEL, BY_TASK_TYPE = 0b111, 0b011, 0b101, 0b110


class UsageAggregates:
    def breakdown_statement(
        self,
        spec: UsageFilterSpec,
        needs: MetricNeeds = ALL_METRICS,
        source: Source = EVENTS,
        grouped_percentiles: Collection[UsageDimension] = BREAKDOWN_DIMENSIONS,
    ) -> Select[Any]:
        """On a rollup, percentiles come from the latency histograms: of the totals, and of the providers and
        models if `grouped_percentiles` names any (task types' are never asked of a rollup: not in them)."""
        table = source.table
        sums = (
            select(
                func.grouping(table.provider, table.model, table.task_type).label("grouping_mask"),
                table.provider,
                table.model,
                table.task_type,
                *source.metrics(needs),
            )
            .where(*source.conditions(spec))
            .group_by(text("GROUPING SETS ((), (provider), (model), (task_type))"))
        )
        if not (source.rollup and wants_percentiles(needs)):
            found, columns = sums, table
        else:
            if grouped_percentiles:
                hist = latency_rows(spec, by_model=True)
                latency = histogram_percentiles(
                    needs,
                    hist,
                    [hist.provider.label("provider"), hist.model.label("model")],
                    grouping_sets="GROUPING SETS ((log_bucket), (provider, log_bucket), (model, log_bucket))",
                    mask=(func.grouping(hist.provider, hist.model) * 2 + 1).label("grouping_mask"),
                )
                joined = ["grouping_mask", "provider", "model"]
            else:  # the totals only: from the rows of every model
                hist = latency_rows(spec, by_model=False)
                latency = histogram_percentiles(needs, hist, mask=literal(TOTALS).label("grouping_mask"))
                joined = ["grouping_mask"]
            rows = with_percentiles(sums.subquery("sums"), latency, joined).subquery("rows")
            found, columns = select(rows), rows.c
        return found.order_by(
            text("cost_usd DESC"),
            text("calls DESC"),
            columns.provider.asc().nulls_last(),
            columns.model.asc().nulls_last(),
            columns.task_type.asc().nulls_last(),
        )

    async def breakdown(
        self,
        session: AsyncSession,
        spec: UsageFilterSpec,
        needs: MetricNeeds = ALL_METRICS,
        source: Source | None = None,
        grouped_percentiles: Collection[UsageDimension] = BREAKDOWN_DIMENSIONS,
    ) -> UsageBreakdown:
        """Totals and the breakdowns by provider, model and task type: one statement, one scan (of the
        smallest source that answers, unless `source` is given). Percentiles are given for the totals and the
        breakdowns by `grouped_percentiles` (null in the others: not asked, so the histograms may answer)."""
        by = tuple(d for d in BREAKDOWN_DIMENSIONS if d in grouped_percentiles)
        source = source or split_for(spec, needs, BREAKDOWN_DIMENSIONS, percentile_dimensions=by)
        rows = (await session.execute(self.breakdown_statement(spec, needs, source, by))).all()
        groups: dict[int, list[UsageGroup]] = {BY_PROVIDER: [], BY_MODEL: [], BY_TASK_TYPE: []}
        totals = None
        for row in rows:
            if row.grouping_mask == TOTALS:
                totals = metrics_from_row(row)
                continue
            key = {BY_PROVIDER: row.provider, BY_MODEL: row.model, BY_TASK_TYPE: row.task_type}[row.grouping_mask]
            groups[row.grouping_mask].append(UsageGroup(key=key, metrics=metrics_from_row(row)))
        assert totals is not None, "the empty grouping set always yields a row"
        return UsageBreakdown(
            totals=totals,
            by_provider=groups[BY_PROVIDER],
            by_model=groups[BY_MODEL],
            by_task_type=groups[BY_TASK_TYPE],
        )

    async def totals(
        self,
        session: AsyncSession,
        spec: UsageFilterSpec,
        needs: MetricNeeds = ALL_METRICS,
        source: Source | None = None,
    ) -> UsageMetrics:
        """The filtered metrics, from the smallest source that answers exactly unless `source` is given."""
        source = source or split_for(spec, needs)
        statement = select(*source.metrics(needs)).where(*source.conditions(spec))
        if source.rollup and wants_percentiles(needs):
            latency = histogram_percentiles(needs, latency_rows(spec, by_model=False))
            statement = with_percentiles(statement.subquery("sums"), latency, [])
        return metrics_from_row((await session.execute(statement)).one())

    async def seen(self, session: AsyncSession, spec: UsageFilterSpec) -> tuple[datetime | None, datetime | None]:
        """The first and last event time of the filtered events."""
        statement = select(func.min(Event.occurred_at), func.max(Event.occurred_at)).where(*filter_conditions(spec))
        first, last = (await session.execute(statement)).one()
        return first, last

    async def cost(self, session: AsyncSession, spec: UsageFilterSpec) -> Decimal:
        """The summed cost of the filtered events (unpriced ones add nothing), from the smallest rollup that
        holds the filter (a budget period: days or hours in its time zone) — so it stays cheap at any history,
        and counts events that retention has deleted — else from the events."""
        source = split_for(spec, COST_ONLY)
        statement = select(func.coalesce(func.sum(source.table.cost_usd), 0)).where(*source.conditions(spec))
        return Decimal((await session.execute(statement)).scalar_one())

    async def count(self, session: AsyncSession, spec: UsageFilterSpec) -> int:
        statement = select(func.count()).select_from(Event).where(*filter_conditions(spec))
        return (await session.execute(statement)).scalar_one()

    async def unpriced_models(self, session: AsyncSession, spec: UsageFilterSpec) -> list[UnpricedModel]:
        """Provider/model pairs stored as UNKNOWN_MODEL, most calls first: what an admin should price."""
        calls = func.count().label("calls")
        statement = (
            select(
                Event.provider,
                Event.model,
                calls,
                func.min(Event.occurred_at).label("first_seen"),
                func.max(Event.occurred_at).label("last_seen"),
            )
            .where(*filter_conditions(spec), Event.cost_source == "UNKNOWN_MODEL")
            .group_by(Event.provider, Event.model)
            .order_by(calls.desc(), Event.provider, Event.model)
        )
        return [
            UnpricedModel(
                provider=r.provider, model=r.model, calls=r.calls, first_seen=r.first_seen, last_seen=r.last_seen
            )
            for r in await session.execute(statement)
        ]
