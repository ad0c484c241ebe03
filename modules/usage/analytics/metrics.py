"""The aggregate expressions behind UsageMetrics, shared by every summing query, and the metrics a
result may be ordered by."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Float, Subquery, cast, func, literal, null, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY, array

from modules.core.dataclass_builder import build_dataclass, fields_of
from modules.usage.models import UsageEventRow as Event
from modules.usage.records import UsageMetrics

TOKEN_COLUMNS = (
    "prompt_tokens",
    "completion_tokens",
    "cached_prompt_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "total_tokens",
    "audio_tokens",
)
DURATION_FRACTIONS = (0.5, 0.9, 0.95, 0.99)
TTFT_FRACTIONS = (0.5, 0.95)
# The UsageMetrics fields of each percentile array's values, in the order of its fractions.
PERCENTILE_FIELDS = {
    "duration_percentiles": ("p50_duration_ms", "p90_duration_ms", "p95_duration_ms", "p99_duration_ms"),
    "ttft_percentiles": ("p50_time_to_first_token_ms", "p95_time_to_first_token_ms"),
}


# Sums computed only when asked for (calls and cost always are: answers are ordered by them).
OPTIONAL_SUMS = frozenset(
    {
        "success_count",
        "error_count",
        *TOKEN_COLUMNS,
        "unpriced_calls",
        "avg_duration_ms",
        "avg_time_to_first_token_ms",
        "avg_tokens_per_second",
        "retries",
    }
)
AVERAGES = frozenset({"avg_duration_ms", "avg_time_to_first_token_ms", "avg_tokens_per_second"})


@dataclass(frozen=True)
class MetricNeeds:
    """The metrics an answer asks for. Percentiles sort every group's calls, distinct users sort their ids,
    and every other sum is one more aggregate per row read (halving a rollup query's time when only calls and
    cost are asked). Left out, they come back as 0 or null and cost nothing."""

    duration_percentiles: bool = True
    ttft_percentiles: bool = True
    distinct_users: bool = True
    sums: frozenset[str] = OPTIONAL_SUMS


def pruned(columns: list[ColumnElement[Any]], needs: MetricNeeds) -> list[ColumnElement[Any]]:
    """`columns` (labelled metric expressions), with the optional sums not needed replaced by a constant."""
    return [
        column
        if column.name not in OPTIONAL_SUMS or column.name in needs.sums
        else (cast(null(), Float) if column.name in AVERAGES else literal(0, BigInteger)).label(column.name)
        for column in columns
    ]


ALL_METRICS = MetricNeeds()


def percentiles(column: Any, fractions: tuple[float, ...]) -> ColumnElement[Any]:
    """Exact percentiles (percentile_cont), several from one sort."""
    return type_coerce(func.percentile_cont(array(fractions)).within_group(column), ARRAY(Float))


def metric_columns(needs: MetricNeeds = ALL_METRICS) -> list[ColumnElement[Any]]:
    """Labelled by the names `metrics_from_row` reads."""
    skipped = cast(null(), ARRAY(Float))
    timed = Event.duration_ms > 0
    throughput = (
        func.sum(Event.completion_tokens).filter(timed)
        * 1000.0
        / func.nullif(func.sum(Event.duration_ms).filter(timed), 0)
    )
    return pruned(
        [
            func.count().label("calls"),
            func.count().filter(Event.status == "SUCCESS").label("success_count"),
            func.count().filter(Event.status == "ERROR").label("error_count"),
            *[func.coalesce(func.sum(getattr(Event, name)), 0).cast(BigInteger).label(name) for name in TOKEN_COLUMNS],
            func.coalesce(func.sum(Event.cost_usd), 0).label("cost_usd"),
            func.count().filter(Event.cost_source == "UNKNOWN_MODEL").label("unpriced_calls"),
            (func.count(Event.user_id.distinct()) if needs.distinct_users else literal(0, BigInteger)).label(
                "distinct_users"
            ),
            func.avg(Event.duration_ms).cast(Float).label("avg_duration_ms"),
            (percentiles(Event.duration_ms, DURATION_FRACTIONS) if needs.duration_percentiles else skipped).label(
                "duration_percentiles"
            ),
            func.avg(Event.time_to_first_token_ms).cast(Float).label("avg_time_to_first_token_ms"),
            (percentiles(Event.time_to_first_token_ms, TTFT_FRACTIONS) if needs.ttft_percentiles else skipped).label(
                "ttft_percentiles"
            ),
            throughput.cast(Float).label("avg_tokens_per_second"),
            func.coalesce(func.sum(Event.retry_count), 0).cast(BigInteger).label("retries"),
        ],
        needs,
    )


# The UsageMetrics fields a summed row holds under their own names; the percentiles come in two arrays.
ROW_FIELDS = tuple(
    name
    for name in fields_of(UsageMetrics)
    if name not in PERCENTILE_FIELDS["duration_percentiles"] + PERCENTILE_FIELDS["ttft_percentiles"]
)


def metrics_from_row(row: Any) -> UsageMetrics:
    """The metrics of a summed row (labelled as `metric_columns` labels them), read by position."""
    return metrics_reader(row._fields)(row)


@cache
def metrics_reader(columns: tuple[str, ...]) -> Callable[[Sequence[Any]], UsageMetrics]:
    """How to read UsageMetrics from rows of these columns: by position (a Row's attribute access by name was
    most of building a group's metrics), into build_dataclass (a third of __init__'s cost)."""
    at = {name: i for i, name in enumerate(columns)}
    plain = [(name, at[name]) for name in ROW_FIELDS]
    arrays = [(at[array], names) for array, names in PERCENTILE_FIELDS.items()]

    def read(row: Sequence[Any]) -> UsageMetrics:
        values = {name: row[i] for name, i in plain}
        for i, names in arrays:
            values.update(zip(names, row[i] or (None,) * len(names), strict=True))
        return build_dataclass(UsageMetrics, values)

    return read


class SortMetric(StrEnum):
    """The metrics a grouped answer can be ordered by."""

    CALLS = "CALLS"
    COST_USD = "COST_USD"
    TOTAL_TOKENS = "TOTAL_TOKENS"
    PROMPT_TOKENS = "PROMPT_TOKENS"
    COMPLETION_TOKENS = "COMPLETION_TOKENS"
    ERROR_COUNT = "ERROR_COUNT"
    ERROR_RATE = "ERROR_RATE"
    DISTINCT_USERS = "DISTINCT_USERS"
    AVG_COST_PER_CALL = "AVG_COST_PER_CALL"
    AVG_DURATION_MS = "AVG_DURATION_MS"
    P50_DURATION_MS = "P50_DURATION_MS"
    P95_DURATION_MS = "P95_DURATION_MS"
    P99_DURATION_MS = "P99_DURATION_MS"
    AVG_TIME_TO_FIRST_TOKEN_MS = "AVG_TIME_TO_FIRST_TOKEN_MS"


ORDER_SUMS = {
    SortMetric.TOTAL_TOKENS: "total_tokens",
    SortMetric.PROMPT_TOKENS: "prompt_tokens",
    SortMetric.COMPLETION_TOKENS: "completion_tokens",
    SortMetric.ERROR_COUNT: "error_count",
    SortMetric.ERROR_RATE: "error_count",
    SortMetric.AVG_DURATION_MS: "avg_duration_ms",
    SortMetric.AVG_TIME_TO_FIRST_TOKEN_MS: "avg_time_to_first_token_ms",
}


def needs_for_order(metric: SortMetric) -> MetricNeeds:
    """What ordering by `metric` needs computed."""
    return MetricNeeds(
        duration_percentiles=metric
        in (SortMetric.P50_DURATION_MS, SortMetric.P95_DURATION_MS, SortMetric.P99_DURATION_MS),
        ttft_percentiles=False,
        distinct_users=metric is SortMetric.DISTINCT_USERS,
        sums=frozenset({ORDER_SUMS[metric]} if metric in ORDER_SUMS else ()),
    )


def combined(*needs: MetricNeeds) -> MetricNeeds:
    return MetricNeeds(
        duration_percentiles=any(n.duration_percentiles for n in needs),
        ttft_percentiles=any(n.ttft_percentiles for n in needs),
        distinct_users=any(n.distinct_users for n in needs),
        sums=frozenset().union(*(n.sums for n in needs)),
    )


def order_expression(metric: SortMetric, grouped: Subquery) -> ColumnElement[Any]:
    """The ordering value of a metric over the columns of a grouped subquery."""
    c = grouped.c
    return {
        SortMetric.CALLS: c.calls,
        SortMetric.COST_USD: c.cost_usd,
        SortMetric.TOTAL_TOKENS: c.total_tokens,
        SortMetric.PROMPT_TOKENS: c.prompt_tokens,
        SortMetric.COMPLETION_TOKENS: c.completion_tokens,
        SortMetric.ERROR_COUNT: c.error_count,
        SortMetric.ERROR_RATE: c.error_count * 1.0 / c.calls,
        SortMetric.DISTINCT_USERS: c.distinct_users,
        SortMetric.AVG_COST_PER_CALL: c.cost_usd / c.calls,
        SortMetric.AVG_DURATION_MS: c.avg_duration_ms,
        SortMetric.P50_DURATION_MS: c.duration_percentiles[1],
        SortMetric.P95_DURATION_MS: c.duration_percentiles[3],
        SortMetric.P99_DURATION_MS: c.duration_percentiles[4],
        SortMetric.AVG_TIME_TO_FIRST_TOKEN_MS: c.avg_time_to_first_token_ms,
    }[metric]
