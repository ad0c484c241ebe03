"""The daily rollup (usage_daily): written in the transaction that stores events (and corrected when events
are re-costed), read instead of the events by the queries it can answer exactly."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from modules.providers.pricing import CostSource, PricedCost
from modules.usage.dimensions import UsageDimension
from modules.usage.metrics import MetricNeeds
from modules.usage.records import UsageEvent, UsageFilterSpec

KEY = ("workspace_id", "day", "provider", "provider_instance_id", "model", "task_type", "status")
KEY_TYPES = ("uuid", "date", "text", "uuid", "text", "text", "text")
SUMS = (
    "calls", "success_count", "error_count", "prompt_tokens", "completion_tokens", "cached_prompt_tokens",
    "cache_write_tokens", "reasoning_tokens", "total_tokens", "cost_usd", "unpriced_calls", "duration_sum",
    "duration_count", "ttft_sum", "ttft_count", "timed_completion_tokens", "timed_duration_sum",
)  # fmt: skip
ROLLUP_DIMENSIONS = frozenset(
    {
        UsageDimension.PROVIDER,
        UsageDimension.PROVIDER_INSTANCE,
        UsageDimension.MODEL,
        UsageDimension.TASK_TYPE,
        UsageDimension.STATUS,
    }
)
# Rows are added in key order, so concurrent batches take the rollup's row locks in one order (no deadlock).
UPSERT_SQL = text(
    f"INSERT INTO usage_daily ({', '.join(KEY + SUMS)}) "
    f"SELECT * FROM unnest({', '.join(f'CAST(:{c} AS {t}[])' for c, t in zip(KEY, KEY_TYPES, strict=True))}, "
    f"{', '.join(f'CAST(:{c} AS numeric[])' if c == 'cost_usd' else f'CAST(:{c} AS bigint[])' for c in SUMS)}) "
    f"ORDER BY {', '.join(str(i + 1) for i in range(len(KEY)))} "
    f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET " + ", ".join(f"{c} = usage_daily.{c} + excluded.{c}" for c in SUMS)
)


# Rebuilds the rollup from the events (for rows loaded around the insert path, e.g. a bulk COPY); the
# migration that created the table holds its own copy, as migrations must not change with the code.
REBUILD_SQL = text(
    "DELETE FROM usage_daily; "
    "INSERT INTO usage_daily (workspace_id, day, provider, provider_instance_id, model, task_type, status, calls, "
    "success_count, error_count, prompt_tokens, completion_tokens, cached_prompt_tokens, cache_write_tokens, "
    "reasoning_tokens, total_tokens, cost_usd, unpriced_calls, duration_sum, duration_count, ttft_sum, ttft_count, "
    "timed_completion_tokens, timed_duration_sum) "
    "SELECT workspace_id, (occurred_at AT TIME ZONE 'UTC')::date, provider, provider_instance_id, model, task_type, "
    "status, count(*), count(*) FILTER (WHERE status = 'SUCCESS'), count(*) FILTER (WHERE status = 'ERROR'), "
    "sum(prompt_tokens), sum(completion_tokens), sum(cached_prompt_tokens), sum(cache_write_tokens), "
    "sum(reasoning_tokens), sum(total_tokens), coalesce(sum(cost_usd), 0), "
    "count(*) FILTER (WHERE cost_source = 'UNKNOWN_MODEL'), coalesce(sum(duration_ms), 0), count(duration_ms), "
    "coalesce(sum(time_to_first_token_ms), 0), count(time_to_first_token_ms), "
    "coalesce(sum(completion_tokens) FILTER (WHERE duration_ms > 0), 0), "
    "coalesce(sum(duration_ms) FILTER (WHERE duration_ms > 0), 0) "
    "FROM usage_events GROUP BY 1, 2, 3, 4, 5, 6, 7"
)


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def is_utc_midnight(moment: datetime | None) -> bool:
    return moment is None or moment.astimezone(UTC).timetz() == time(0, tzinfo=UTC)


def key_of(event: UsageEvent) -> tuple[Any, ...]:
    return (
        event.workspace_id,
        utc_day(event.occurred_at),
        event.provider,
        event.provider_instance_id,
        event.model,
        event.task_type,
        event.status.value,
    )


def sums_of(event: UsageEvent) -> list[Any]:
    timed = bool(event.duration_ms)
    return [
        1,
        1 if event.status.value == "SUCCESS" else 0,
        1 if event.status.value == "ERROR" else 0,
        event.prompt_tokens,
        event.completion_tokens,
        event.cached_prompt_tokens,
        event.cache_write_tokens,
        event.reasoning_tokens,
        event.total_tokens,
        event.cost_usd or Decimal(0),
        1 if event.cost_source is CostSource.UNKNOWN_MODEL else 0,
        event.duration_ms or 0,
        0 if event.duration_ms is None else 1,
        event.time_to_first_token_ms or 0,
        0 if event.time_to_first_token_ms is None else 1,
        event.completion_tokens if timed else 0,
        event.duration_ms if timed else 0,
    ]


@dataclass(frozen=True)
class RollupWriter:
    """A stored-events hook: adds each batch to the daily rollup in the batch's own transaction."""

    async def on_stored(self, session: AsyncSession, events: Sequence[UsageEvent]) -> None:
        totals: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0] * len(SUMS))
        for event in events:
            row = totals[key_of(event)]
            for i, value in enumerate(sums_of(event)):
                row[i] += value
        await self._add(session, totals)

    async def recosted(self, session: AsyncSession, events: Sequence[UsageEvent], costs: dict[int, PricedCost]) -> None:
        """Moves the rollup's cost and unpriced count by what re-costing changed (same transaction)."""
        cost_at, unpriced_at = SUMS.index("cost_usd"), SUMS.index("unpriced_calls")
        deltas: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0] * len(SUMS))
        for event in events:
            if event.id not in costs:
                continue
            new = costs[event.id]
            row = deltas[key_of(event)]
            row[cost_at] += (new.cost_usd or Decimal(0)) - (event.cost_usd or Decimal(0))
            row[unpriced_at] += (new.source is CostSource.UNKNOWN_MODEL) - (
                event.cost_source is CostSource.UNKNOWN_MODEL
            )
        await self._add(session, deltas)

    async def _add(self, session: AsyncSession, rows: dict[tuple[Any, ...], list[Any]]) -> None:
        if not rows:
            return
        keys = list(rows)
        parameters: dict[str, list[Any]] = {c: [k[i] for k in keys] for i, c in enumerate(KEY)}
        parameters.update({c: [rows[k][i] for k in keys] for i, c in enumerate(SUMS)})
        await session.execute(UPSERT_SQL, parameters)


def rollup_answers(
    spec: UsageFilterSpec,
    needs: MetricNeeds,
    dimensions: Sequence[UsageDimension] = (),
    bounds: Sequence[datetime] = (),
) -> bool:
    """Whether the daily rollup gives exactly the answer the events would: no per-call metric (percentiles,
    distinct users), no condition or dimension finer than the rollup, whole UTC days."""
    if needs.duration_percentiles or needs.ttft_percentiles or needs.distinct_users:
        return False
    finer = (spec.user_id, spec.user_ids, spec.error_type, spec.session_id)
    if any(value is not None for value in finer) or spec.tags or spec.with_user:
        return False
    if not set(dimensions) <= ROLLUP_DIMENSIONS:
        return False
    return all(is_utc_midnight(m) for m in (spec.start, spec.end, *bounds))
