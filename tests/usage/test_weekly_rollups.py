"""The weekly rollups (usage_user_weekly, usage_latency_weekly): written by the insert path as the daily rows summed
by UTC week (Monday to Sunday), and read for the whole weeks of a window with its other days from the daily
rows and its edges from the events. Oracle: random events over five weeks stored through /graphql; rankings
of random windows equal the events' exactly, and the latency counts merged from weeks and days equal those
of the days alone (histograms add exactly, so the percentiles cannot differ)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select, text

from modules.usage.analytics.aggregates import UsageAggregates
from modules.usage.analytics.dimensions import GroupBy, UsageDimension
from modules.usage.analytics.grouping import GroupedUsageReader
from modules.usage.analytics.metrics import SortMetric
from modules.usage.analytics.sources import DAILY, EVENTS, HOURLY, USER_DAILY, USER_WEEKLY
from modules.usage.analytics.split import latency_rows, split_for
from modules.usage.records import UsageFilterSpec
from modules.usage.rollups.writer import SUMS
from tests.documents import TRACK_BATCH
from tests.usage.test_rollups import CHEAP, WITH_USERS, random_event

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
SPAN = timedelta(weeks=5)
WEEKS = {  # each weekly table, the daily one it sums, and the columns besides the bucket that key both
    "usage_user_weekly": ("usage_user_daily", "user_id", [*SUMS]),
    "usage_latency_weekly": ("usage_latency_daily", "provider, model, log_bucket", ["durations", "ttfts"]),
}


@pytest.fixture
async def stored(gql, workspace) -> UUID:
    rng = random.Random(2028)
    events = []
    for _ in range(1500):
        event = random_event(rng)
        event["occurredAt"] = (MONDAY - timedelta(days=2) + SPAN * rng.random()).isoformat()
        events.append(event)
    for i in range(0, len(events), 500):
        await gql.data(TRACK_BATCH, inputs=events[i : i + 500])
    return UUID(workspace["id"])


async def test_the_weekly_rows_are_the_daily_rows_summed_by_utc_week(database, stored):
    async with database.session_factory() as session:
        for weekly, (daily, key, sums) in WEEKS.items():
            columns = ", ".join(sums)
            kept = await session.execute(text(f"SELECT week, {key}, {columns} FROM {weekly} ORDER BY 1, {key}"))
            summed = await session.execute(
                text(
                    f"SELECT date_trunc('week', day::timestamp)::date, {key}, "
                    + ", ".join(f"sum({s})" for s in sums)
                    + f" FROM {daily} GROUP BY 1, {key} ORDER BY 1, {key}"
                )
            )
            rows = [tuple(r) for r in kept]
            assert rows == [tuple(r) for r in summed], weekly
            assert len({r[0] for r in rows}) == 6, weekly  # Saturday before the first Monday, then five weeks
            assert all(r[0].weekday() == 0 for r in rows), weekly


def random_window(rng: random.Random) -> tuple[datetime | None, datetime | None]:
    """Windows of 1 to 30 days inside the data, to the microsecond, on UTC midnights or on Mondays (or open)."""
    start = MONDAY + timedelta(microseconds=rng.randrange(10 * 86_400 * 10**6))
    end = start + timedelta(microseconds=rng.randrange(86_400 * 10**6, 30 * 86_400 * 10**6))
    if rng.random() < 0.4:
        start, end = (m.replace(hour=0, minute=0, second=0, microsecond=0) for m in (start, end))
    if rng.random() < 0.3:
        start -= timedelta(days=start.weekday())
    return (None if rng.random() < 0.1 else start), (None if rng.random() < 0.1 else end)


async def test_rankings_of_windows_holding_whole_weeks_equal_the_events(database, stored):
    """topUsers' question (by user, the events naming one) over random windows: the same ranking and sums as from
    the events, and the same totals with distinct users; the weeks come from usage_user_weekly whenever the
    window holds one."""
    rng = random.Random(3)
    grouping = GroupBy((UsageDimension.USER,))
    weekly = 0
    async with database.session_factory() as session:
        for _ in range(30):
            start, end = random_window(rng)
            spec = UsageFilterSpec(workspace_id=stored, start=start, end=end, with_user=True)
            chosen = split_for(spec, WITH_USERS, grouping.dimensions)
            weekly += chosen is USER_WEEKLY or any(p.source is USER_WEEKLY for p in chosen.parts)
            order = rng.choice([SortMetric.COST_USD, SortMetric.CALLS, SortMetric.TOTAL_TOKENS])
            answers = [
                await GroupedUsageReader().grouped(
                    session, spec, grouping, order_by=order, descending=True, limit=4, needs=WITH_USERS, source=source
                )
                for source in (chosen, EVENTS)
            ]
            assert answers[0] == answers[1], (spec, order)
            assert answers[1].groups, spec
            totals = split_for(spec, WITH_USERS)  # distinct users counted once across weeks, days and edges
            aggregates = UsageAggregates()
            assert await aggregates.totals(session, spec, WITH_USERS, totals) == await aggregates.totals(
                session, spec, WITH_USERS, EVENTS
            ), spec
    assert weekly >= 20


def test_a_window_of_whole_days_reads_its_whole_weeks_from_the_weekly_rows():
    w = UUID(int=1)
    tuesday = MONDAY + timedelta(days=1)
    split = split_for(UsageFilterSpec(workspace_id=w, start=tuesday, end=tuesday + timedelta(days=30), with_user=True),
                      WITH_USERS)  # fmt: skip
    assert [(p.source, p.start, p.end) for p in split.parts] == [
        (USER_DAILY, tuesday, MONDAY + timedelta(weeks=1)),
        (USER_WEEKLY, MONDAY + timedelta(weeks=1), MONDAY + timedelta(weeks=4)),
        (USER_DAILY, MONDAY + timedelta(weeks=4), tuesday + timedelta(days=30)),
    ]
    six_days = UsageFilterSpec(workspace_id=w, start=tuesday, end=tuesday + timedelta(days=6), with_user=True)
    assert split_for(six_days, WITH_USERS) is USER_DAILY  # no whole week: no union
    off_midnight = replace(six_days, start=tuesday + timedelta(minutes=1))  # a split of days, not of weeks
    assert split_for(off_midnight, WITH_USERS).shape is USER_DAILY.table


def test_a_window_of_whole_hours_reads_its_whole_days_from_the_daily_rows():
    """The same rule one level down: hours that hold a day read it from usage_daily, its edges from the hours."""
    w, ten = UUID(int=1), MONDAY + timedelta(hours=10)
    three_days = split_for(UsageFilterSpec(workspace_id=w, start=ten, end=ten + timedelta(days=3)), CHEAP)
    assert [(p.source, p.start, p.end) for p in three_days.parts] == [
        (HOURLY, ten, MONDAY + timedelta(days=1)),
        (DAILY, MONDAY + timedelta(days=1), MONDAY + timedelta(days=3)),
        (HOURLY, MONDAY + timedelta(days=3), ten + timedelta(days=3)),
    ]
    assert split_for(UsageFilterSpec(workspace_id=w, start=ten, end=ten + timedelta(hours=20)), CHEAP) is HOURLY


async def latency_counts(session: Any, spec: UsageFilterSpec, bounds: list[datetime]) -> tuple[list[Any], str]:
    rows = latency_rows(spec, by_model=True, bounds=bounds)
    counted = select(rows.provider, rows.model, rows.log_bucket, func.sum(rows.durations), func.sum(rows.ttfts))
    statement = counted.group_by(rows.provider, rows.model, rows.log_bucket).order_by(
        rows.provider, rows.model, rows.log_bucket
    )
    return [tuple(r) for r in await session.execute(statement)], str(statement)


async def test_latency_counts_merged_from_weeks_equal_those_of_the_days(database, stored):
    """Per model and bucket, the histograms of a window read with its whole weeks from usage_latency_weekly equal
    those read from usage_latency_daily alone (a series bound on a Tuesday keeps the weeks out)."""
    rng = random.Random(4)
    async with database.session_factory() as session:
        for _ in range(15):
            start, end = random_window(rng)
            spec = UsageFilterSpec(workspace_id=stored, start=start, end=end)
            merged, _ = await latency_counts(session, spec, [])
            daily, daily_sql = await latency_counts(session, spec, [MONDAY + timedelta(days=1)])
            assert merged == daily, spec
            assert merged, spec
            assert "usage_latency_weekly" not in daily_sql
    tuesday = MONDAY + timedelta(days=1)
    month = UsageFilterSpec(workspace_id=stored, start=tuesday, end=tuesday + timedelta(days=30))
    async with database.session_factory() as session:
        assert "usage_latency_weekly" in (await latency_counts(session, month, []))[1]
        assert (await latency_counts(session, month, []))[0] == (await latency_counts(session, month, [tuesday]))[0]
