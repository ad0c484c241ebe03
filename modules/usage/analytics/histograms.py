"""Percentiles from the latency histograms (usage_latency_daily) for queries whose sums a rollup answers.

A rollup row holds sums, not calls, so its percentile columns are null; each reader then joins, group by
group, the percentiles merged from the histograms over the same filter and groups: counts per bucket are
summed, and usage_histogram_percentiles (a SQL function, migration 0011) ranks them by a running sum and reads
the buckets of the two ranks percentile_cont interpolates between back as their representatives (within 1.96%
of the values they hold: modules/usage/rollups/latency.py)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Select,
    Subquery,
    Text,
    and_,
    cast,
    func,
    literal_column,
    null,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY

from modules.usage.analytics.metrics import DURATION_FRACTIONS, TTFT_FRACTIONS, MetricNeeds

PERCENTILE_COLUMNS = ("duration_percentiles", "ttft_percentiles")
COUNTED = "counted"  # the subquery of counts per bucket, which the percentiles' text names


def wants_percentiles(needs: MetricNeeds) -> bool:
    return needs.duration_percentiles or needs.ttft_percentiles


def histogram_percentiles(
    needs: MetricNeeds,
    rows: Any,
    keys: Sequence[ColumnElement[Any]] = (),
    *,
    grouping_sets: str | None = None,
    mask: ColumnElement[Any] | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> Subquery:
    """One row per group of `keys` (labelled expressions over `rows`, split.latency_rows of the filter; with
    `grouping_sets`, a GROUPING SETS clause naming them and log_bucket in every set, told apart by `mask`,
    labelled grouping_mask): the key columns, then duration_percentiles and ttft_percentiles as
    metric_columns labels them."""
    names = [key.name for key in keys] + (["grouping_mask"] if mask is not None else [])
    counted = select(
        *keys,
        *([mask] if mask is not None else []),
        rows.log_bucket,
        cast(func.sum(rows.durations), BigInteger).label("durations"),
        cast(func.sum(rows.ttfts), BigInteger).label("ttfts"),
    ).where(*where)
    if grouping_sets is not None:
        counted = counted.group_by(text(grouping_sets))
    else:
        counted = counted.group_by(*keys, rows.log_bucket)
    c = counted.subquery(COUNTED)
    return (
        select(
            *[c.c[name] for name in names],
            _percentiles("durations", DURATION_FRACTIONS, needs.duration_percentiles).label(PERCENTILE_COLUMNS[0]),
            _percentiles("ttfts", TTFT_FRACTIONS, needs.ttft_percentiles).label(PERCENTILE_COLUMNS[1]),
        )
        .select_from(c)  # the percentiles name its columns in text: without keys nothing else would
        .group_by(*[c.c[name] for name in names])
        .subquery("percentiles")
    )


def _percentiles(measure: str, fractions: tuple[float, ...], wanted: bool) -> ColumnElement[Any]:
    if not wanted:
        return cast(null(), ARRAY(Float))
    return literal_column(_percentiles_sql(measure, fractions), type_=ARRAY(Float))


@functools.cache
def _percentiles_sql(measure: str, fractions: tuple[float, ...]) -> str:
    """The percentiles of `measure` over the COUNTED subquery's columns (a group's count per bucket), written
    once: usage_histogram_percentiles (migration 0011) takes the group's non-empty buckets in order and their
    counts, and the fractions in ascending order."""
    if list(fractions) != sorted(fractions):
        raise ValueError(f"fractions must ascend: {fractions}")
    bucket, count = f"{COUNTED}.log_bucket", f"{COUNTED}.{measure}"
    listed = ", ".join(repr(float(f)) for f in fractions)
    return (
        f"usage_histogram_percentiles(array_agg({bucket} ORDER BY {bucket}) FILTER (WHERE {count} > 0), "
        f"array_agg({count} ORDER BY {bucket}) FILTER (WHERE {count} > 0), ARRAY[{listed}]::float8[])"
    )


def with_percentiles(sums: Subquery, percentiles: Subquery, keys: Sequence[str]) -> Select[Any]:
    """The rows of `sums` (a rollup's grouped metrics) with the percentiles of the same group (`keys`: the
    columns both share; null keys of rolled-up grouping sets match each other, the mask tells sets apart)."""
    matched = [
        func.coalesce(cast(sums.c[key], Text), "") == func.coalesce(cast(percentiles.c[key], Text), "") for key in keys
    ]
    columns = [column for column in sums.c if column.name not in PERCENTILE_COLUMNS]
    return select(*columns, *[percentiles.c[name] for name in PERCENTILE_COLUMNS]).select_from(
        sums.outerjoin(percentiles, and_(true(), *matched))
    )
