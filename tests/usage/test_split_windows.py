"""Windows not aligned to days are read as whole days from a daily rollup, whole hours from the hourly one
and the minutes at either edge from the events (modules/usage/analytics/split.py). Oracle: the same
question asked of the events alone, on random events stored through /graphql and random windows to the
microsecond — sums, counts, costs and averages equal exactly, distinct users too, percentiles within the
histograms' 1.96%; and the events part of a 30-day window reads no event outside its two edges."""

from __future__ import annotations

import json
import random
from dataclasses import fields, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from modules.usage.analytics.aggregates import BREAKDOWN_DIMENSIONS, UsageAggregates
from modules.usage.analytics.dimensions import GroupBy, UsageDimension
from modules.usage.analytics.grouping import GroupedUsageReader
from modules.usage.analytics.metrics import MetricNeeds, SortMetric
from modules.usage.analytics.series import SeriesReader, TimeInterval, boundaries
from modules.usage.analytics.sources import DAILY, EVENTS, HISTOGRAMS, HOURLY, USER_DAILY, Source
from modules.usage.analytics.split import Piece, pieces, split_for
from modules.usage.records import UsageBreakdown, UsageFilterSpec, UsageMetrics
from modules.usage.retention.partitions import is_partition
from modules.usage.rollups.latency import MAX_RELATIVE_ERROR
from tests.documents import TRACK_BATCH
from tests.usage.test_rollups import CHEAP, DAY0, DIMENSIONS, WITH_USERS, random_event, random_spec

UTC_ZONE = ZoneInfo("UTC")
SUMS_AND_PERCENTILES = MetricNeeds(distinct_users=False)
BY = (UsageDimension.PROVIDER, UsageDimension.MODEL)  # what the histograms hold: no task types
PERCENTILE_FIELDS = {f.name for f in fields(UsageMetrics) if f.name.startswith("p")}


def random_window(rng: random.Random, spec: UsageFilterSpec) -> UsageFilterSpec:
    """A window to the microsecond inside the data's five days (or open at one end), rarely aligned."""
    start = DAY0 + timedelta(microseconds=rng.randrange(2 * 86_400 * 10**6)) if rng.random() < 0.85 else None
    span = timedelta(microseconds=rng.randrange(1, 4 * 86_400 * 10**6))
    end = (start or DAY0) + span if rng.random() < 0.85 else None
    return replace(spec, start=start, end=end)


@pytest.fixture
async def stored(gql, workspace) -> UUID:
    rng = random.Random(2027)
    events = [random_event(rng) for _ in range(1200)]
    for i in range(0, len(events), 400):
        await gql.data(TRACK_BATCH, inputs=events[i : i + 400])
    return UUID(workspace["id"])


def sums(metrics: UsageMetrics) -> UsageMetrics:
    return replace(metrics, **{n: None for n in PERCENTILE_FIELDS})


def close(split: UsageMetrics, events: UsageMetrics) -> bool:
    """Equal but for the percentiles, which are within the histograms' error of the events'."""
    for name in PERCENTILE_FIELDS:
        got, want = getattr(split, name), getattr(events, name)
        if (got is None) != (want is None):
            return False
        if want is not None and abs(got - want) > MAX_RELATIVE_ERROR * want + 1e-9:
            return False
    return sums(split) == sums(events)


def test_a_window_is_cut_into_whole_days_whole_hours_and_the_edges():
    start, end = DAY0 + timedelta(hours=3, minutes=7, seconds=1), DAY0 + timedelta(days=30, hours=5, minutes=59)
    hour = timedelta(hours=1)
    assert pieces(start, end, [DAILY, HOURLY, EVENTS]) == [
        Piece(EVENTS, start, DAY0 + 4 * hour),
        Piece(HOURLY, DAY0 + 4 * hour, DAY0 + timedelta(days=1)),
        Piece(DAILY, DAY0 + timedelta(days=1), DAY0 + timedelta(days=30)),
        Piece(HOURLY, DAY0 + timedelta(days=30), DAY0 + timedelta(days=30, hours=5)),
        Piece(EVENTS, DAY0 + timedelta(days=30, hours=5), end),
    ]
    assert pieces(start, DAY0 + 5 * hour, [DAILY, HOURLY, EVENTS]) == [
        Piece(EVENTS, start, DAY0 + 4 * hour),
        Piece(HOURLY, DAY0 + 4 * hour, DAY0 + 5 * hour),
    ]
    assert pieces(None, end, [HISTOGRAMS, EVENTS]) == [
        Piece(HISTOGRAMS, None, DAY0 + timedelta(days=30)),
        Piece(EVENTS, DAY0 + timedelta(days=30), end),
    ]
    assert pieces(start, start + hour, [DAILY, HOURLY, EVENTS]) == [Piece(EVENTS, start, start + hour)]


def test_the_split_reads_the_rollups_only_for_what_they_hold():
    spec = UsageFilterSpec(workspace_id=UUID(int=1), start=DAY0 + timedelta(minutes=1), end=DAY0 + timedelta(days=7))
    breakdown = split_for(spec, CHEAP, BREAKDOWN_DIMENSIONS)  # task types: the hours cannot say
    assert (breakdown.shape, [p.source for p in breakdown.parts]) == (DAILY.table, [EVENTS, DAILY])
    by_model = split_for(spec, CHEAP, [UsageDimension.MODEL])
    assert [p.source for p in by_model.parts] == [EVENTS, HOURLY, DAILY]
    assert split_for(replace(spec, with_user=True), WITH_USERS, [UsageDimension.USER]).shape is USER_DAILY.table
    assert split_for(spec, WITH_USERS) is EVENTS  # distinct users of all events: no rollup knows them
    assert split_for(replace(spec, end=DAY0 + timedelta(hours=5)), SUMS_AND_PERCENTILES) is EVENTS  # no whole day
    assert split_for(replace(spec, error_type="timeout"), CHEAP) is EVENTS
    aligned = replace(spec, start=DAY0)
    assert split_for(aligned, CHEAP, BREAKDOWN_DIMENSIONS) is DAILY


async def test_breakdowns_and_totals_of_unaligned_windows_equal_the_events(database, stored):
    rng = random.Random(11)
    split_count = 0
    async with database.session_factory() as session:
        for i in range(40):
            spec = random_window(rng, random_spec(rng, stored))
            needs = SUMS_AND_PERCENTILES if i % 2 else CHEAP
            source = split_for(spec, needs, BREAKDOWN_DIMENSIONS, percentile_dimensions=BY)
            split_count += bool(source.parts)
            split: UsageBreakdown = await UsageAggregates().breakdown(session, spec, needs, source, BY)
            events = await UsageAggregates().breakdown(session, spec, needs, EVENTS, BY)
            assert close(split.totals, events.totals), spec
            for got, want in zip(
                (split.by_provider, split.by_model, split.by_task_type),
                (events.by_provider, events.by_model, events.by_task_type),
                strict=True,
            ):
                assert [g.key for g in got] == [g.key for g in want], spec
                if got is split.by_task_type:  # no percentiles asked (the histograms have no task types)
                    got, want = [[replace(g, metrics=sums(g.metrics)) for g in groups] for groups in (got, want)]
                assert all(close(g.metrics, w.metrics) for g, w in zip(got, want, strict=True)), spec
            totals = await UsageAggregates().totals(session, spec, needs, split_for(spec, needs))
            assert close(totals, events.totals), spec
            assert await UsageAggregates().cost(session, spec) == events.totals.cost_usd
    assert split_count >= 20, "most random windows are split"


@pytest.mark.parametrize("source", [DAILY, HOURLY, USER_DAILY], ids=["daily", "hourly", "user_daily"])
async def test_groupings_of_unaligned_windows_equal_the_events(database, stored, source):
    rng = random.Random(12)
    orders = [SortMetric.COST_USD, SortMetric.CALLS, SortMetric.ERROR_RATE, SortMetric.AVG_DURATION_MS]
    needs = WITH_USERS if source is USER_DAILY else CHEAP
    split_count = 0
    async with database.session_factory() as session:
        for _ in range(30):
            spec = random_window(rng, random_spec(rng, stored, source))
            choices = DIMENSIONS[source]
            grouping = GroupBy(tuple(rng.sample(choices, rng.randrange(1, len(choices) + 1))))
            order, descending, limit = rng.choice(orders), rng.random() < 0.5, rng.randrange(1, 6)
            chosen = split_for(spec, needs, grouping.dimensions)
            split_count += bool(chosen.parts)
            answers = [
                await GroupedUsageReader().grouped(
                    session, spec, grouping, order_by=order, descending=descending, limit=limit, needs=needs, source=s
                )
                for s in (chosen, EVENTS)
            ]
            assert answers[0] == answers[1], (spec, grouping, order)
    assert split_count >= 15


async def test_percentile_groupings_of_unaligned_windows_are_within_two_percent(database, stored):
    rng = random.Random(13)
    async with database.session_factory() as session:
        for _ in range(15):
            spec = random_window(rng, random_spec(rng, stored))
            grouping = GroupBy((rng.choice([UsageDimension.PROVIDER, UsageDimension.MODEL]),))
            answers = [
                await GroupedUsageReader().grouped(
                    session,
                    spec,
                    grouping,
                    order_by=SortMetric.CALLS,
                    descending=True,
                    limit=2,
                    needs=SUMS_AND_PERCENTILES,
                    source=s,
                )
                for s in (split_for(spec, SUMS_AND_PERCENTILES, grouping.dimensions), EVENTS)
            ]
            got, want = answers
            assert [g.values for g in got.groups] == [g.values for g in want.groups], spec
            assert all(close(g.metrics, w.metrics) for g, w in zip(got.groups, want.groups, strict=True)), spec
            assert (got.others is None) == (want.others is None)
            assert got.others is None or close(got.others, want.others), spec


@pytest.mark.parametrize("interval", [TimeInterval.DAY, TimeInterval.HOUR])
async def test_series_of_unaligned_windows_equal_the_events(database, stored, interval):
    rng = random.Random(14)
    split_count = 0
    async with database.session_factory() as session:
        for i in range(16):
            spec = random_window(rng, random_spec(rng, stored, DAILY if interval is TimeInterval.DAY else HOURLY))
            spec = replace(spec, start=spec.start or DAY0, end=spec.end or DAY0 + timedelta(days=5))
            bounds = boundaries(spec.start, spec.end, interval, UTC_ZONE)
            choices = DIMENSIONS[DAILY if interval is TimeInterval.DAY else HOURLY]
            grouping = GroupBy((rng.choice(choices),)) if rng.random() < 0.5 else None
            needs = SUMS_AND_PERCENTILES if interval is TimeInterval.DAY and i % 2 else CHEAP
            chosen = split_for(spec, needs, grouping.dimensions if grouping else (), bounds)
            split_count += bool(chosen.parts)
            got, want = [
                await SeriesReader().series(session, spec, bounds, grouping, needs, s) for s in (chosen, EVENTS)
            ]
            assert [(b.start, b.end) for b in got] == [(b.start, b.end) for b in want]
            for g, w in zip(got, want, strict=True):
                assert close(g.metrics, w.metrics), (spec, g.start)
                assert [x.values for x in g.groups] == [x.values for x in w.groups], (spec, g.start)
                assert all(close(x.metrics, y.metrics) for x, y in zip(g.groups, w.groups, strict=True))
    assert split_count >= 6


def scanned_events(plan: Any) -> int:
    """Rows of usage_events a plan read (in any of its partitions): those it kept and those its filters removed,
    over all loops."""
    found = 0
    if is_partition(plan.get("Relation Name", "")):
        found += (plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)) * plan["Actual Loops"]
    return found + sum(scanned_events(child) for child in plan.get("Plans", []))


async def test_a_30_day_window_reads_only_its_edges_from_the_events(database, gql, workspace):
    """3000 events over 32 days; an unaligned 30-day window's breakdown (with percentiles) reads from
    usage_events exactly the events of its two edge intervals, counted here from the inputs."""
    rng = random.Random(15)
    events = [
        {**random_event(rng), "occurredAt": (DAY0 + timedelta(seconds=rng.randrange(32 * 86_400))).isoformat()}
        for _ in range(3000)
    ]
    for i in range(0, len(events), 500):
        await gql.data(TRACK_BATCH, inputs=events[i : i + 500])
    start, end = DAY0 + timedelta(days=1, hours=7, minutes=13), DAY0 + timedelta(days=31, hours=7, minutes=13)
    spec = UsageFilterSpec(workspace_id=UUID(workspace["id"]), start=start, end=end)
    source: Source = split_for(spec, SUMS_AND_PERCENTILES, BREAKDOWN_DIMENSIONS, percentile_dimensions=BY)
    edges = [(p.start, p.end) for p in source.parts if not p.source.rollup]
    assert edges == [(start, DAY0 + timedelta(days=2)), (DAY0 + timedelta(days=31), end)]
    moments = [datetime.fromisoformat(e["occurredAt"]) for e in events]
    in_edges = sum(any(a <= m < b for a, b in edges) for m in moments)
    in_window = sum(start <= m < end for m in moments)
    statement = UsageAggregates().breakdown_statement(spec, SUMS_AND_PERCENTILES, source, BY)
    compiled = statement.compile(dialect=database.engine.dialect, compile_kwargs={"literal_binds": True})
    async with database.session_factory() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))  # 3000 rows: the planner would scan all
        # Statistics of this test's rows, not of what earlier tests' live servers left committed (which made the
        # planner pick a plan reading the whole workspace in some orders of the suite).
        await session.execute(text("ANALYZE usage_events"))
        (plan,) = (await session.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}"))).scalar_one()
    plan = plan if isinstance(plan, dict) else json.loads(plan)[0]
    # The sums read the edges' events once, and the histograms once for both measures (one GROUPING SETS scan).
    assert scanned_events(plan["Plan"]) == 2 * in_edges, (in_edges, in_window)
    assert 2 * in_edges < in_window / 3


async def test_distinct_users_of_unaligned_windows_are_exact(database, stored):
    """Users counted once across the days of usage_user_daily and the edges' events."""
    rng = random.Random(16)
    split_count = 0
    async with database.session_factory() as session:
        for _ in range(20):
            spec = random_window(rng, random_spec(rng, stored, USER_DAILY))
            chosen = split_for(spec, WITH_USERS)
            split_count += bool(chosen.parts)
            got = await UsageAggregates().totals(session, spec, WITH_USERS, chosen)
            assert got == await UsageAggregates().totals(session, spec, WITH_USERS, EVENTS), spec
    assert split_count >= 10
