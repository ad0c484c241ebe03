"""SQL that sums usage events. Everything is aggregated by Postgres; Python only reads the result rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Float, Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from modules.usage.filters import filter_conditions
from modules.usage.models import UsageEventRow as Event
from modules.usage.records import UnpricedModel, UsageBreakdown, UsageFilterSpec, UsageGroup, UsageMetrics

TOKEN_COLUMNS = (
    "prompt_tokens",
    "completion_tokens",
    "cached_prompt_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "total_tokens",
)


def metric_columns() -> list[ColumnElement[Any]]:
    """The aggregate expressions behind UsageMetrics, labelled by field name."""
    timed = Event.duration_ms > 0
    throughput = (
        func.sum(Event.completion_tokens).filter(timed)
        * 1000.0
        / func.nullif(func.sum(Event.duration_ms).filter(timed), 0)
    )
    return [
        func.count().label("calls"),
        func.count().filter(Event.status == "SUCCESS").label("success_count"),
        func.count().filter(Event.status == "ERROR").label("error_count"),
        *[func.coalesce(func.sum(getattr(Event, name)), 0).cast(BigInteger).label(name) for name in TOKEN_COLUMNS],
        func.coalesce(func.sum(Event.cost_usd), 0).label("cost_usd"),
        func.count().filter(Event.cost_source == "UNKNOWN_MODEL").label("unpriced_calls"),
        func.avg(Event.duration_ms).cast(Float).label("avg_duration_ms"),
        func.percentile_cont(0.5).within_group(Event.duration_ms).label("p50_duration_ms"),
        func.percentile_cont(0.95).within_group(Event.duration_ms).label("p95_duration_ms"),
        func.avg(Event.time_to_first_token_ms).cast(Float).label("avg_time_to_first_token_ms"),
        throughput.cast(Float).label("avg_tokens_per_second"),
    ]


def metrics_from_row(row: Any) -> UsageMetrics:
    return UsageMetrics(
        calls=row.calls,
        success_count=row.success_count,
        error_count=row.error_count,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        cached_prompt_tokens=row.cached_prompt_tokens,
        cache_write_tokens=row.cache_write_tokens,
        reasoning_tokens=row.reasoning_tokens,
        total_tokens=row.total_tokens,
        cost_usd=row.cost_usd,
        unpriced_calls=row.unpriced_calls,
        avg_duration_ms=row.avg_duration_ms,
        p50_duration_ms=row.p50_duration_ms,
        p95_duration_ms=row.p95_duration_ms,
        avg_time_to_first_token_ms=row.avg_time_to_first_token_ms,
        avg_tokens_per_second=row.avg_tokens_per_second,
    )


# grouping(provider, model, task_type) is a bit mask of the columns NOT grouped by in a row's set.
TOTALS, BY_PROVIDER, BY_MODEL, BY_TASK_TYPE = 0b111, 0b011, 0b101, 0b110


class UsageAggregates:
    def breakdown_statement(self, spec: UsageFilterSpec) -> Select[Any]:
        return (
            select(
                func.grouping(Event.provider, Event.model, Event.task_type).label("grouping_mask"),
                Event.provider,
                Event.model,
                Event.task_type,
                *metric_columns(),
            )
            .where(*filter_conditions(spec))
            .group_by(text("GROUPING SETS ((), (provider), (model), (task_type))"))
            .order_by(
                text("cost_usd DESC"),
                text("calls DESC"),
                Event.provider.asc().nulls_last(),
                Event.model.asc().nulls_last(),
                Event.task_type.asc().nulls_last(),
            )
        )

    async def breakdown(self, session: AsyncSession, spec: UsageFilterSpec) -> UsageBreakdown:
        """Totals and the breakdowns by provider, model and task type: one statement, one scan."""
        rows = (await session.execute(self.breakdown_statement(spec))).all()
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
