"""The rollups answer exactly what the events answer. Property test on random data: random events stored
through /graphql (so the rollups are written by the real insert path), then random filters, groupings and
series read from a rollup and from the events must give equal metrics — exactly, sums and averages alike."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from modules.usage.analytics.aggregates import UsageAggregates
from modules.usage.analytics.dimensions import GroupBy, UsageDimension
from modules.usage.analytics.grouping import GroupedUsageReader
from modules.usage.analytics.metrics import MetricNeeds, SortMetric
from modules.usage.analytics.series import SeriesReader, TimeInterval, boundaries
from modules.usage.analytics.sources import DAILY, EVENTS, HOURLY, USER_DAILY, Source, source_for
from modules.usage.records import TagCondition, UsageFilterSpec, UsageStatus
from modules.usage.rollups.writer import rebuild
from tests.documents import TRACK_BATCH

CHEAP = MetricNeeds(duration_percentiles=False, ttft_percentiles=False, distinct_users=False)
DAY0 = datetime(2026, 3, 1, tzinfo=UTC)
MODELS = [("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("anthropic", "claude-3-5-haiku-latest"), ("acme", "m1")]
TASKS = ["chat", "summarize", None]
USERS = ["u1", "u2", "u3", "u4", "u5"]
BREAKDOWN = (UsageDimension.PROVIDER, UsageDimension.MODEL, UsageDimension.TASK_TYPE)
DIMENSIONS = {
    DAILY: [UsageDimension.PROVIDER, UsageDimension.MODEL, UsageDimension.TASK_TYPE, UsageDimension.STATUS],
    HOURLY: [UsageDimension.PROVIDER, UsageDimension.MODEL, UsageDimension.STATUS],
    USER_DAILY: [UsageDimension.USER],
}
WITH_USERS = MetricNeeds(duration_percentiles=False, ttft_percentiles=False, distinct_users=True)


def random_event(rng: random.Random) -> dict:
    provider, model = rng.choice(MODELS)
    event = {
        "workspaceId": "acme",
        "provider": provider,
        "model": model,
        "promptTokens": rng.randrange(0, 5000),
        "completionTokens": rng.randrange(0, 900),
        "occurredAt": (DAY0 + timedelta(minutes=rng.randrange(5 * 24 * 60))).isoformat(),
    }
    if (task := rng.choice(TASKS)) is not None:
        event["taskType"] = task
    if rng.random() < 0.7:
        event["durationMs"] = rng.randrange(0, 20_000)
        if rng.random() < 0.7:
            event["timeToFirstTokenMs"] = rng.randrange(0, event["durationMs"] + 1)
    if rng.random() < 0.7:
        event["userId"] = rng.choice(USERS)
    if rng.random() < 0.2:
        event["errorType"] = "timeout"
    if rng.random() < 0.3:
        event["costUsd"] = str(rng.randrange(0, 10**6) / 10**7)
    if rng.random() < 0.3:  # audio: a kind beyond the token fields, summed as audioTokens by the rollups too
        event["usageKinds"] = {"input_audio_tokens": rng.randrange(0, event["promptTokens"] + 1)}
    return event


def random_spec(rng: random.Random, workspace_id: UUID, source: Source = DAILY) -> UsageFilterSpec:
    """A filter `source` can answer: its conditions, on its time buckets."""
    step = timedelta(hours=1) if source is HOURLY else timedelta(days=1)
    steps = 4 * 24 if source is HOURLY else 4
    start = DAY0 + step * rng.randrange(0, steps) if rng.random() < 0.7 else None
    end = (start or DAY0) + step * rng.randrange(1, steps + 1) if rng.random() < 0.7 else None
    spec = UsageFilterSpec(workspace_id=workspace_id, start=start, end=end)
    if source is USER_DAILY:
        if rng.random() < 0.3:
            return replace(spec, user_ids=tuple(rng.sample(USERS, 2)))
        return replace(spec, with_user=True)
    if rng.random() < 0.3:
        spec = replace(spec, provider=rng.choice(MODELS)[0])
    if rng.random() < 0.3:
        spec = replace(spec, models=tuple(m for _, m in rng.sample(MODELS, 2)))
    if rng.random() < 0.3 and source is DAILY:
        spec = replace(spec, task_type=rng.choice(["chat", "summarize"]))
    if rng.random() < 0.2:
        spec = replace(spec, status=rng.choice(list(UsageStatus)))
    return spec


@pytest.fixture
async def stored(gql, workspace) -> UUID:
    rng = random.Random(2026)
    events = [random_event(rng) for _ in range(900)]
    await gql.data(TRACK_BATCH, inputs=events[:450])
    await gql.data(TRACK_BATCH, inputs=events[450:])
    return UUID(workspace["id"])


async def test_breakdowns_from_the_rollup_equal_those_from_the_events(database, stored):
    rng = random.Random(1)
    async with database.session_factory() as session:
        for _ in range(40):
            spec = random_spec(rng, stored)
            assert DAILY.answers(spec, CHEAP, BREAKDOWN)
            rolled = await UsageAggregates().breakdown(session, spec, CHEAP, DAILY)
            counted = await UsageAggregates().breakdown(session, spec, CHEAP, EVENTS)
            assert rolled == counted, spec


@pytest.mark.parametrize("source", [DAILY, HOURLY, USER_DAILY], ids=["daily", "hourly", "user_daily"])
async def test_groupings_and_others_from_each_rollup_equal_those_from_the_events(database, stored, source):
    rng = random.Random(2)
    metrics = [SortMetric.COST_USD, SortMetric.CALLS, SortMetric.ERROR_RATE, SortMetric.AVG_DURATION_MS]
    needs = WITH_USERS if source is USER_DAILY else CHEAP
    compared = 0
    async with database.session_factory() as session:
        for _ in range(40):
            spec = random_spec(rng, stored, source)
            choices = DIMENSIONS[source]
            grouping = GroupBy(tuple(rng.sample(choices, rng.randrange(1, len(choices) + 1))))
            order, descending, limit = rng.choice(metrics), rng.random() < 0.5, rng.randrange(1, 6)
            assert source.answers(spec, needs, grouping.dimensions)
            answers = [
                await GroupedUsageReader().grouped(
                    session,
                    spec,
                    grouping,
                    order_by=order,
                    descending=descending,
                    limit=limit,
                    needs=needs,
                    source=read_from,
                )
                for read_from in (source, EVENTS)
            ]
            assert answers[0] == answers[1], (spec, grouping, order)
            compared += bool(answers[1].groups)
    assert compared >= 25, "most random filters match some events"


@pytest.mark.parametrize(
    ("source", "interval", "zone"),
    [
        (DAILY, TimeInterval.DAY, "UTC"),
        (HOURLY, TimeInterval.HOUR, "UTC"),
        (HOURLY, TimeInterval.DAY, "America/New_York"),
        (HOURLY, TimeInterval.DAY, "Asia/Tokyo"),
        (USER_DAILY, TimeInterval.DAY, "UTC"),
    ],
    ids=["daily", "hourly", "new-york-days-from-hours", "tokyo-days-from-hours", "user-daily"],
)
async def test_series_from_each_rollup_equal_those_from_the_events(database, stored, source, interval, zone):
    rng = random.Random(3)
    async with database.session_factory() as session:
        for _ in range(20):
            start = DAY0 + timedelta(days=rng.randrange(0, 3))
            spec = replace(
                random_spec(rng, stored, source), start=start, end=start + timedelta(days=rng.randrange(1, 4))
            )
            if zone != "UTC":  # local midnights: whole UTC hours
                spec = replace(
                    spec, start=spec.start.replace(tzinfo=ZoneInfo(zone)), end=spec.end.replace(tzinfo=ZoneInfo(zone))
                )
            bounds = boundaries(spec.start, spec.end, interval, ZoneInfo(zone))
            grouping = GroupBy((rng.choice(DIMENSIONS[source]),)) if rng.random() < 0.5 else None
            dimensions = grouping.dimensions if grouping else ()
            assert source.answers(spec, CHEAP, dimensions, bounds)
            if source is not USER_DAILY:
                assert source_for(spec, CHEAP, dimensions, bounds) is source
            answers = [
                await SeriesReader().series(session, spec, bounds, grouping, CHEAP, read_from)
                for read_from in (source, EVENTS)
            ]
            assert answers[0] == answers[1], spec


async def test_recosting_moves_every_rollup_with_the_events(gql, database, stored):
    await gql.data(
        'mutation { setModelPrice(input: {workspaceId: "acme", provider: "acme", model: "m1", '
        'inputPerMillion: "3", outputPerMillion: "9"}) { id } }'
    )
    result = await gql.data('mutation { recostUsage(filter: {workspaceId: "acme"}) { changed } }')
    assert result["recostUsage"]["changed"] > 0
    async with database.session_factory() as session:
        for source, spec in [
            (DAILY, UsageFilterSpec(workspace_id=stored)),
            (HOURLY, UsageFilterSpec(workspace_id=stored)),
            (USER_DAILY, UsageFilterSpec(workspace_id=stored, with_user=True)),
        ]:
            rolled = await UsageAggregates().totals(session, spec, CHEAP, source)
            counted = await UsageAggregates().totals(session, spec, CHEAP, EVENTS)
            assert rolled == counted, source
            assert rolled.unpriced_calls == 0
            assert rolled.calls > 0


async def test_the_api_answers_from_the_rollup_what_the_events_answer(gql, stored):
    """Through /graphql: whole UTC days (read from the rollup) and the same range one second wider at
    each end (read from the events, which it must then equal once the two extra seconds are taken out)."""
    fields = "calls totalTokens costUsd unpricedCalls errorCount"

    async def totals(start: str, end: str) -> dict:
        query = (
            f'{{ usageAnalytics(filter: {{workspaceId: "acme", from: "{start}", to: "{end}"}}) '
            f"{{ totals {{ {fields} }} }} }}"
        )
        return (await gql.data(query))["usageAnalytics"]["totals"]

    whole_days = await totals("2026-03-02T00:00:00Z", "2026-03-04T00:00:00Z")
    wider = await totals("2026-03-01T23:59:59Z", "2026-03-04T00:00:01Z")
    edges = [await totals("2026-03-01T23:59:59Z", "2026-03-02T00:00:00Z"),
             await totals("2026-03-04T00:00:00Z", "2026-03-04T00:00:01Z")]  # fmt: skip
    assert whole_days["calls"] > 100
    for name in ("calls", "totalTokens", "unpricedCalls", "errorCount"):
        assert whole_days[name] + sum(e[name] for e in edges) == wider[name], name


async def test_top_users_through_the_api_equal_the_events(gql, database, stored):
    """topUsers over whole days (read from usage_user_daily) ranks and sums as the events do."""
    query = (
        '{ topUsers(filter: {workspaceId: "acme", from: "2026-03-02T00:00:00Z", to: "2026-03-05T00:00:00Z"}, '
        "limit: 3) { userId metrics { calls costUsd totalTokens distinctUsers } } }"
    )
    top = (await gql.data(query))["topUsers"]
    spec = UsageFilterSpec(
        workspace_id=stored, with_user=True, start=DAY0 + timedelta(days=1), end=DAY0 + timedelta(days=4)
    )
    async with database.session_factory() as session:
        expected = await GroupedUsageReader().grouped(
            session, spec, GroupBy((UsageDimension.USER,)), order_by=SortMetric.COST_USD, descending=True,
            limit=3, needs=WITH_USERS, source=EVENTS,
        )  # fmt: skip
    assert source_for(spec, WITH_USERS, [UsageDimension.USER]) is USER_DAILY
    assert [u["userId"] for u in top] == [g.values[0] for g in expected.groups]
    for user, group in zip(top, expected.groups, strict=True):
        assert user["metrics"] == {
            "calls": group.metrics.calls,
            "costUsd": str(group.metrics.cost_usd.normalize()) if group.metrics.cost_usd else "0",
            "totalTokens": group.metrics.total_tokens,
            "distinctUsers": 1,
        }


@pytest.mark.parametrize(
    ("change", "answers"),
    [
        ({}, True),
        ({"user_id": "u"}, False),
        ({"session_id": "s"}, False),
        ({"error_type": "timeout"}, False),
        ({"tags": (TagCondition("team"),)}, False),
        ({"with_user": True}, False),
        ({"start": DAY0 + timedelta(hours=1)}, False),
        ({"end": DAY0 + timedelta(days=1, seconds=1)}, False),
    ],
)
def test_the_daily_rollup_answers_only_what_it_holds(change, answers):
    spec = replace(UsageFilterSpec(workspace_id=UUID(int=1), start=DAY0, end=DAY0 + timedelta(days=2)), **change)
    assert DAILY.answers(spec, CHEAP) is answers


def test_each_question_goes_to_the_smallest_source_that_answers_it():
    spec = UsageFilterSpec(workspace_id=UUID(int=1), start=DAY0, end=DAY0 + timedelta(days=2))
    hour = DAY0 + timedelta(hours=1)
    percentile = MetricNeeds(duration_percentiles=True, ttft_percentiles=False, distinct_users=False)
    assert source_for(spec, CHEAP, BREAKDOWN) is DAILY
    assert source_for(spec, percentile, BREAKDOWN) is EVENTS
    assert source_for(spec, WITH_USERS) is EVENTS  # distinct users of all events: only the events know
    assert source_for(spec, CHEAP, [UsageDimension.MODEL], [DAY0, hour]) is HOURLY
    assert source_for(replace(spec, start=hour), CHEAP, [UsageDimension.PROVIDER]) is HOURLY
    assert source_for(replace(spec, start=hour), CHEAP, BREAKDOWN) is EVENTS  # hours have no task type
    assert source_for(replace(spec, task_type="chat"), CHEAP, [], [DAY0, hour]) is EVENTS
    assert source_for(replace(spec, start=DAY0 + timedelta(minutes=30)), CHEAP) is EVENTS
    assert source_for(replace(spec, with_user=True), WITH_USERS, [UsageDimension.USER]) is USER_DAILY
    assert source_for(replace(spec, user_id="u1"), CHEAP) is USER_DAILY
    assert source_for(spec, CHEAP, [UsageDimension.USER]) is EVENTS  # events without a user count too
    assert source_for(replace(spec, with_user=True, model="m"), CHEAP, [UsageDimension.USER]) is EVENTS
    assert source_for(spec, CHEAP, [UsageDimension.SESSION]) is EVENTS


async def test_rebuilding_the_rollups_gives_back_what_the_insert_path_kept(database, stored):
    """`llm-usage rebuild-rollups`: emptied or wrong rollups come back equal to the events."""
    spec = UsageFilterSpec(workspace_id=stored)
    users = replace(spec, with_user=True)
    async with database.session_factory.begin() as session:
        kept = [await UsageAggregates().totals(session, s, CHEAP, source) for source, s in
                [(DAILY, spec), (HOURLY, spec), (USER_DAILY, users)]]  # fmt: skip
        await session.execute(text("DELETE FROM usage_hourly"))
        await session.execute(text("UPDATE usage_daily SET calls = calls + 1000"))
        rows = await rebuild(session)
        assert set(rows) == {
            "usage_daily",
            "usage_hourly",
            "usage_user_daily",
            "usage_user_weekly",
            "usage_latency_daily",
            "usage_latency_weekly",
        }
        assert min(rows.values()) > 0
        rebuilt = [await UsageAggregates().totals(session, s, CHEAP, source) for source, s in
                   [(DAILY, spec), (HOURLY, spec), (USER_DAILY, users)]]  # fmt: skip
        counted = [await UsageAggregates().totals(session, s, CHEAP, EVENTS) for s in (spec, spec, users)]
    assert rebuilt == kept == counted
