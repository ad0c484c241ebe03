"""A time series as columns: for the totals and for each group of the whole range, one list per metric, each
indexed like the bucket starts. What a chart draws, without an object per bucket and group (at 720 hourly
buckets by 8 providers the bucket form builds and resolves ~6,500 metric objects; here each selected metric is
one list of plain values per group, read straight from the summed rows)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

from modules.core.errors import BadUserInput
from modules.providers import quantize
from modules.usage.analytics.metrics import PERCENTILE_FIELDS
from modules.usage.analytics.series import SeriesRows
from modules.usage.records import UsageMetrics

Slots = list[Any | None]  # one summed row per bucket, None where the bucket had no calls

PERCENTILE_PLACES = {  # a percentile's array and its place in it, as metrics_reader unpacks them
    name: (array, place) for array, names in PERCENTILE_FIELDS.items() for place, name in enumerate(names)
}
EMPTY = UsageMetrics.empty()
# Every group has a value in every bucket here (zeros where it had no calls): 40 models over 720 hours fit,
# 20,000 users each seen in one of 720 hours (a bucket form of 20,000 rows) do not.
MAX_COLUMN_CELLS = 50_000


@dataclass(frozen=True)
class GroupSlots:
    values: tuple[str | None, ...]  # the group's value of each groupBy dimension, in order
    slots: Slots


Positions = Mapping[str, int]  # a summed row's column names → their positions (rows are read by position)


@dataclass(frozen=True)
class SeriesColumns:
    starts: list[datetime]
    end: datetime  # the last bucket's end; every other bucket ends where the next starts
    totals: Slots
    groups: list[GroupSlots]  # most cost over the range first, then most calls, then by value
    positions: Positions


def columns_of(read: SeriesRows) -> SeriesColumns:
    count = len(read.bounds) - 1
    totals: Slots = [None] * count
    grouped: dict[tuple[str | None, ...], Slots] = {}
    summed: dict[tuple[str | None, ...], list[Any]] = {}  # each group's cost and calls over the range
    # By position: a Row's attribute access by name was a fifth of answering 720 hours by 8 providers.
    at: Positions = {name: i for i, name in enumerate(read.columns)}
    bucket, mask = at["bucket"], at.get("grouping_mask")  # the mask only when grouped
    cost, calls = at["cost_usd"], at["calls"]
    for row in read.rows:
        if mask is not None and row[mask] == 0:
            values = tuple(row[1 : 1 + read.keys])  # the columns after the bucket
            slots = grouped.get(values)
            if slots is None:
                slots = grouped[values] = [None] * count
                summed[values] = [Decimal(0), 0]
            slots[row[bucket] - 1] = row
            sums = summed[values]
            sums[0] += row[cost]
            sums[1] += row[calls]
        else:
            totals[row[bucket] - 1] = row
    if len(grouped) * count > MAX_COLUMN_CELLS:
        raise BadUserInput.of(
            "groupBy",
            f"columns of {len(grouped):,} groups x {count:,} buckets would hold more than {MAX_COLUMN_CELLS:,} "
            "values a metric: narrow the filter or range, use a larger interval, or read buckets",
        )
    order = sorted(grouped, key=lambda values: group_order(values, *summed[values]))
    groups = [GroupSlots(values=values, slots=grouped[values]) for values in order]
    return SeriesColumns(starts=read.bounds[:-1], end=read.bounds[-1], totals=totals, groups=groups, positions=at)


def group_order(values: tuple[str | None, ...], cost: Decimal, calls: int) -> tuple[Any, ...]:
    """Most cost first, then most calls, then by value (nulls last)."""
    return (-cost, -calls, *[(value is None, value or "") for value in values])


def metric_column(slots: Slots, name: str, at: Positions) -> list[Any]:
    """The UsageMetrics field `name` of each bucket (an empty bucket's as UsageMetrics.empty() has it)."""
    empty = getattr(EMPTY, name)
    read = metric_reader(name, at)
    return [empty if row is None else read(row) for row in slots]


def metric_reader(name: str, at: Positions) -> Callable[[Any], Any]:
    """The UsageMetrics field `name` of a summed row, as metrics_reader's gives it, without building
    the whole UsageMetrics."""
    if name in PERCENTILE_PLACES:
        column, place = PERCENTILE_PLACES[name]
        position = at[column]
        return lambda row: values[place] if (values := row[position]) else None
    calls = at["calls"]  # the columns a metric reads only (read for the columns alone, a row holds only the sums asked)
    if name == "error_rate":
        errors = at["error_count"]
        return lambda row: row[errors] / row[calls] if row[calls] else 0.0
    if name == "avg_cost_per_call":
        cost = at["cost_usd"]
        return lambda row: quantize(row[cost] / row[calls]) if row[calls] else None
    return itemgetter(at[name])


def metric_columns(slots: Slots, names: Collection[str], at: Positions) -> dict[str, list[Any]]:
    return {name: metric_column(slots, name, at) for name in names}
