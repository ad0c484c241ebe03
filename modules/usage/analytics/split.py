"""Windows not aligned to a rollup's buckets, read as the union of aligned pieces: whole UTC weeks from a
weekly rollup (per user, latency histograms), whole UTC days from a daily one, the whole hours at its edges
from the hourly one (when that holds what the query asks), and the minutes left from the events, summed into
rows of the same shape with the rollup writer's own sums. The readers then sum that union as they sum a
rollup, so each summing query is still written once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    DateTime,
    Select,
    Subquery,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
    text,
    union_all,
)

from modules.usage.analytics.dimensions import UsageDimension
from modules.usage.analytics.metrics import MetricNeeds
from modules.usage.analytics.sources import (
    COARSER,
    EVENTS,
    FINER,
    HISTOGRAMS,
    HISTOGRAMS_WEEKLY,
    ROLLUPS,
    Source,
    source_for,
)
from modules.usage.filter.conditions import filter_conditions, filtered_columns
from modules.usage.models import DailyLatencyRow as Latency
from modules.usage.models import UsageEventRow as Event
from modules.usage.models import WeeklyLatencyRow as WeeklyLatency
from modules.usage.records import UsageFilterSpec
from modules.usage.rollups.latency import bucket_sql
from modules.usage.rollups.writer import BUCKETS, SUMS

STEP = {"week": timedelta(weeks=1), "day": timedelta(days=1), "hour": timedelta(hours=1)}


@dataclass(frozen=True)
class Piece:
    """[start, end) of the window (None: open), read from `source` (aligned to its buckets there)."""

    source: Source
    start: datetime | None
    end: datetime | None


def pieces(start: datetime | None, end: datetime | None, chain: Sequence[Source]) -> list[Piece]:
    """[start, end) cut into the whole buckets of chain[0] and, at either edge, the pieces of the finer
    sources after it (the last, the events, takes any moment)."""
    source, finer = chain[0], chain[1:]
    if not finer:
        return [Piece(source, start, end)]
    inner_start = None if start is None else _floor(start, source, up=True)
    inner_end = None if end is None else _floor(end, source, up=False)
    if inner_start is not None and inner_end is not None and inner_start >= inner_end:
        return pieces(start, end, finer)
    left = [] if start is None or inner_start == start else pieces(start, inner_start, finer)
    right = [] if end is None or inner_end == end else pieces(inner_end, end, finer)
    return [*left, Piece(source, inner_start, inner_end), *right]


def _floor(moment: datetime, source: Source, *, up: bool) -> datetime:
    """The bucket boundary of `source` at or below `moment` (at or above it when `up`), in UTC."""
    utc = moment.astimezone(UTC)
    base = utc.replace(minute=0, second=0, microsecond=0)
    if source.bucket in ("day", "week"):
        base = base.replace(hour=0)
    if source.bucket == "week":
        base -= timedelta(days=base.weekday())  # back to Monday
    return base + STEP[str(source.bucket)] if up and base != utc else base


def split_for(
    spec: UsageFilterSpec,
    needs: MetricNeeds,
    dimensions: Sequence[UsageDimension] = (),
    bounds: Sequence[datetime] = (),
    percentile_dimensions: Sequence[UsageDimension] | None = None,
) -> Source:
    """The first rollup that holds the query (all but its ends) and has a whole bucket in the window, over the
    union of its buckets and the finer pieces at their edges; else source_for's answer (a rollup that answers at
    the window's bounds, or the events). A coarser rollup over a source_for answer is used only when the window
    holds one of its buckets (a week of daily rows, a day of hourly ones): else the union would read the same
    rows as the finer rollup alone. Percentiles are split only when the window holds a whole day: else the
    histograms would add nothing but their 2% to an events scan of the same size."""
    asked = (dimensions, bounds, percentile_dimensions)
    found = source_for(spec, needs, *asked)
    coarser = COARSER.get(found)
    if coarser is not None and coarser.holds(spec, needs, *asked):
        within = pieces(spec.start, spec.end, [coarser, found])
        if any(p.source is coarser for p in within):
            return split(spec, coarser, within)
    if found is not EVENTS:
        return found
    for source in ROLLUPS:
        if not source.holds(spec, needs, *asked):
            continue
        finer = FINER.get(source)
        chain = [source, *([finer] if finer is not None and finer.holds(spec, needs, *asked) else []), EVENTS]
        found_pieces = pieces(spec.start, spec.end, chain)
        if not any(p.source is source for p in found_pieces):
            continue  # no whole bucket of its own: a finer rollup next reads the same pieces without it
        percentiles = needs.duration_percentiles or needs.ttft_percentiles
        if percentiles and not any(p.source.rollup for p in pieces(spec.start, spec.end, [HISTOGRAMS, EVENTS])):
            continue
        return split(spec, source, found_pieces)
    return EVENTS


class UnionColumns:
    """A union's columns by name (`union.user_id`), standing where a rollup table would (hashed and compared by
    identity, as the ORM alias it replaces was; a ColumnCollection cannot be hashed)."""

    __slots__ = ("_columns",)

    def __init__(self, union: Subquery) -> None:
        self._columns = union.c

    def __getattr__(self, name: str) -> Any:
        return getattr(self._columns, name)


def split(spec: UsageFilterSpec, shape: Source, parts: Sequence[Piece]) -> Source:
    """A source over the union of `parts`, each a select of `shape`'s columns under the spec's conditions."""
    selects = [_shaped(replace(spec, start=p.start, end=p.end), shape, p.source) for p in parts]
    rows = union_all(*selects).subquery("pieces")
    # its columns by name (rows.c.user_id), not an ORM alias of the shape: adapting each column of an alias to
    # a fresh union looked every one up through the union's columns, half of topUsers' CPU
    return Source(UnionColumns(rows), shape.bucket, shape=shape.table, parts=tuple(parts))


def _shaped(spec: UsageFilterSpec, shape: Source, source: Source) -> Select[Any]:
    """The rows of `source` in [spec.start, spec.end) as rows of `shape`: a rollup's as they are (a finer
    bucket's moved to the coarser one holding it; columns it lacks null: asked only when not needed), the
    events' summed by the shape's key as the rollup writer sums them (a finer piece is never more than a few
    days, so its rows summed again by the coarser bucket would save nothing)."""
    columns = shape.table.__table__.columns
    if source.rollup:
        table = source.table
        selected: list[ColumnElement[Any]] = []
        for column in columns:
            if column.name == shape.bucket and source.bucket != shape.bucket:
                selected.append(coarser_bucket(table, str(source.bucket), column.name).label(column.name))
            elif column.name in table.__table__.columns:
                selected.append(getattr(table, column.name).label(column.name))
            else:
                selected.append(cast(null(), column.type).label(column.name))
        return select(*selected).where(*source.conditions(spec))
    key = [c.name for c in columns if c.name != "id" and c.name not in SUMS]
    conditions = filter_conditions(spec) + ([Event.user_id.is_not(None)] if "user_id" in key else [])
    summed: list[ColumnElement[Any]] = [
        cast(null(), BigInteger).label("id"),
        *[literal_column(BUCKETS.get(name, f"usage_events.{name}")).label(name) for name in key],
        *[literal_column(aggregate).label(name) for name, aggregate in SUMS.items()],
    ]
    return (
        select(*summed)
        .select_from(Event)
        .where(*conditions)
        .group_by(*[literal_column(str(i + 2)) for i in range(len(key))])
    )


def coarser_bucket(table: Any, bucket: str, coarser: str) -> ColumnElement[Any]:
    """The `coarser` bucket ("day" or "week", a date) holding a rollup row of `table` by `bucket` (UTC)."""
    day = getattr(table, bucket) if bucket == "day" else cast(func.timezone("UTC", table.hour), Date)
    if coarser == "day":
        return day
    return cast(func.date_trunc("week", cast(day, DateTime)), Date)  # a date as a timestamp: no time zone


def latency_rows(spec: UsageFilterSpec, *, by_model: bool, bounds: Sequence[datetime] = ()) -> Any:
    """The latency histograms' rows of the filter at one level (per model when `by_model` or the filter names
    a provider or model, else the far fewer rows of every model), as usage_latency_daily rows (a from-object
    with its columns): whole UTC weeks from usage_latency_weekly (their `day` the Monday; only where every
    series bound in `bounds` is a Monday, so a week lies in one bucket), whole UTC days from usage_latency_daily,
    the edges' events bucketed by the same SQL the histograms are written with (so a percentile stays within
    1.96%: rollups/latency.py)."""
    by_model = by_model or bool(filtered_columns(spec) & {"provider", "model"})
    chain = [HISTOGRAMS, EVENTS]
    if all(map(HISTOGRAMS_WEEKLY.aligned, bounds)):
        chain.insert(0, HISTOGRAMS_WEEKLY)
    selects: list[Select[Any]] = []
    for piece in pieces(spec.start, spec.end, chain):
        within = replace(spec, start=piece.start, end=piece.end)
        if not piece.source.rollup:
            selects.append(_edge_histograms(within, by_model))
            continue
        table = piece.source.table
        level = table.model.is_not(None) if by_model else table.model.is_(None)
        selects.append(_as_daily_histograms(table).where(*piece.source.conditions(within), level))
    return UnionColumns(union_all(*selects).subquery("latency"))  # by name, as split()'s (no ORM alias to adapt)


def _as_daily_histograms(table: type[Latency] | type[WeeklyLatency]) -> Select[Any]:
    """The rows of a latency histogram table as usage_latency_daily rows (a weekly row's `day` its Monday)."""
    if table is Latency:
        return select(Latency)
    w = WeeklyLatency
    columns: list[Any] = [w.id, w.workspace_id, w.week.label("day"), w.provider, w.model, w.log_bucket, w.durations]
    return select(*columns, w.ttfts)


def _edge_histograms(spec: UsageFilterSpec, by_model: bool) -> Select[Any]:
    """The events of [spec.start, spec.end) as usage_latency_daily rows: one scan for both histograms (GROUPING
    SETS by each measure's bucket; two scans of a day's events were a third of an unaligned percentile query),
    each row one bucket of one measure, the other's count 0; calls without the measure are left out."""
    keys = ["usage_events.workspace_id", BUCKETS["day"], *(["usage_events.provider", "usage_events.model"] * by_model)]
    duration, ttft = bucket_sql("usage_events.duration_ms"), bucket_sql("usage_events.time_to_first_token_ms")
    listed = ", ".join(keys)
    by_duration = func.grouping(literal_column(duration)) == 0
    model = [Event.provider, Event.model] if by_model else [cast(null(), Latency.provider.type)] * 2
    counted = (
        select(
            Event.workspace_id.label("workspace_id"),
            literal_column(BUCKETS["day"]).label("day"),
            model[0].label("provider"),
            model[1].label("model"),
            case((by_duration, literal_column(duration)), else_=literal_column(ttft)).label("log_bucket"),
            case((by_duration, func.count(Event.duration_ms)), else_=0).cast(BigInteger).label("durations"),
            case((by_duration, 0), else_=func.count(Event.time_to_first_token_ms)).cast(BigInteger).label("ttfts"),
        )
        .where(*filter_conditions(spec))
        .group_by(text(f"GROUPING SETS (({listed}, {duration}), ({listed}, {ttft}))"))
    ).subquery("edge")
    return select(cast(null(), BigInteger).label("id"), *counted.c).where(
        (counted.c.durations > 0) | (counted.c.ttfts > 0)
    )
