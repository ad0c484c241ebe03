"""Percentiles from the latency histograms (usage_latency_daily) for queries whose sums a rollup answers.

A rollup row holds sums, not calls, so its percentile columns are null; each reader then joins, group by
group, the percentiles merged from the histograms over the same filter and groups: counts per bucket are
summed, ranked by a running sum, and the buckets of the two ranks percentile_cont interpolates between are
read back as their representatives (within 1.96% of the values they hold: modules/usage/rollups/latency.py)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    Subquery,
    Text,
    and_,
    cast,
    column,
    func,
    literal_column,
    null,
    select,
    table,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.dialects.postgresql.base import PGDialect

from modules.usage.analytics.metrics import DURATION_FRACTIONS, TTFT_FRACTIONS, MetricNeeds
from modules.usage.rollups.latency import representative_sql

PERCENTILE_COLUMNS = ("duration_percentiles", "ttft_percentiles")
RUNNING = "running"  # the subquery of running sums, which the percentiles' compiled text names


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
        func.sum(rows.durations).label("durations"),
        func.sum(rows.ttfts).label("ttfts"),
    ).where(*where)
    if grouping_sets is not None:
        counted = counted.group_by(text(grouping_sets))
    else:
        counted = counted.group_by(*keys, rows.log_bucket)
    c = counted.subquery("counted")
    partition = [c.c[name] for name in names]
    running = select(
        c,
        *[
            window.label(label)
            for measure in ("durations", "ttfts")
            for label, window in (
                (f"{measure}_below", func.sum(c.c[measure]).over(partition_by=partition, order_by=c.c.log_bucket)),
                (f"{measure}_total", func.sum(c.c[measure]).over(partition_by=partition)),
            )
        ],
    ).subquery(RUNNING)
    r = running.c
    return (
        select(
            *[r[name] for name in names],
            _percentiles("durations", DURATION_FRACTIONS, needs.duration_percentiles).label(PERCENTILE_COLUMNS[0]),
            _percentiles("ttfts", TTFT_FRACTIONS, needs.ttft_percentiles).label(PERCENTILE_COLUMNS[1]),
        )
        .select_from(running)  # the percentiles name its columns in text: without keys nothing else would
        .group_by(*[r[name] for name in names])
        .subquery("percentiles")
    )


def _percentiles(measure: str, fractions: tuple[float, ...], wanted: bool) -> ColumnElement[Any]:
    if not wanted:
        return cast(null(), ARRAY(Float))
    return literal_column(_percentiles_sql(measure, fractions), type_=ARRAY(Float))


@functools.cache
def _percentiles_sql(measure: str, fractions: tuple[float, ...]) -> str:
    """The percentiles of `measure` over the RUNNING subquery's columns, compiled once: the expression is the
    same for every request (its numbers are constants), and building it anew took half the server's time of a
    histogram-answered percentile request (SQLAlchemy constructs and their cache keys)."""
    c = table(RUNNING, column("log_bucket"), column(measure), column(f"{measure}_below"), column(f"{measure}_total")).c
    below, total = c[f"{measure}_below"], c[f"{measure}_total"]

    def interpolated(fraction: float) -> ColumnElement[Any]:
        rank = fraction * (cast(total, Float) - 1)  # 0-based, as percentile_cont places it
        lower = func.min(c.log_bucket).filter(c[measure] > 0, below > func.floor(rank))
        upper = func.min(c.log_bucket).filter(c[measure] > 0, below > func.ceil(rank))
        weight = func.max(rank - func.floor(rank))
        return representative_sql(lower) + weight * (representative_sql(upper) - representative_sql(lower))

    expression = array([interpolated(f) for f in fractions], type_=Float)
    postgres = PGDialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's dialect classes have no annotations
    return str(expression.compile(dialect=postgres, compile_kwargs={"literal_binds": True}))


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
