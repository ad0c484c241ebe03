"""The daily rollup answers exactly what the events answer. Property test on random data: random events
stored through /graphql (so the rollup is written by the real insert path), then random filters, groupings
and day series read from both sources must give equal metrics — exactly, sums and averages alike."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from modules.usage.aggregation import UsageAggregates
from modules.usage.dimensions import Grouping, UsageDimension
from modules.usage.grouping import UsageGrouping
from modules.usage.metrics import MetricNeeds, UsageMetric
from modules.usage.records import TagCondition, UsageFilterSpec, UsageStatus
from modules.usage.rollups import rollup_answers
from modules.usage.sources import DAILY, EVENTS
from modules.usage.timeseries import TimeInterval, UsageTimeSeries, boundaries

CHEAP = MetricNeeds(duration_percentiles=False, ttft_percentiles=False, distinct_users=False)
DAY0 = datetime(2026, 3, 1, tzinfo=UTC)
MODELS = [("openai", "gpt-4o"), ("openai", "gpt-4o-mini"), ("anthropic", "claude-3-5-haiku-latest"), ("acme", "m1")]
TASKS = ["chat", "summarize", None]
ROLLUP_DIMENSIONS = [UsageDimension.PROVIDER, UsageDimension.MODEL, UsageDimension.TASK_TYPE, UsageDimension.STATUS]
TRACK_BATCH = "mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs) { insertedCount } }"


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
    if rng.random() < 0.2:
        event["errorType"] = "timeout"
    if rng.random() < 0.3:
        event["costUsd"] = str(rng.randrange(0, 10**6) / 10**7)
    return event


def random_spec(rng: random.Random, workspace_id: UUID) -> UsageFilterSpec:
    start = DAY0 + timedelta(days=rng.randrange(0, 4)) if rng.random() < 0.7 else None
    end = (start or DAY0) + timedelta(days=rng.randrange(1, 5)) if rng.random() < 0.7 else None
    spec = UsageFilterSpec(workspace_id=workspace_id, start=start, end=end)
    if rng.random() < 0.3:
        spec = replace(spec, provider=rng.choice(MODELS)[0])
    if rng.random() < 0.3:
        spec = replace(spec, models=tuple(m for _, m in rng.sample(MODELS, 2)))
    if rng.random() < 0.3:
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
            assert rollup_answers(spec, CHEAP)
            rolled = await UsageAggregates().breakdown(session, spec, CHEAP, DAILY)
            counted = await UsageAggregates().breakdown(session, spec, CHEAP, EVENTS)
            assert rolled == counted, spec


async def test_groupings_and_others_from_the_rollup_equal_those_from_the_events(database, stored):
    rng = random.Random(2)
    metrics = [UsageMetric.COST_USD, UsageMetric.CALLS, UsageMetric.ERROR_RATE, UsageMetric.AVG_DURATION_MS]
    async with database.session_factory() as session:
        for _ in range(40):
            spec = random_spec(rng, stored)
            grouping = Grouping(tuple(rng.sample(ROLLUP_DIMENSIONS, rng.randrange(1, 4))))
            order, descending, limit = rng.choice(metrics), rng.random() < 0.5, rng.randrange(1, 6)
            assert rollup_answers(spec, CHEAP, grouping.dimensions)
            answers = [
                await UsageGrouping().grouped(
                    session,
                    spec,
                    grouping,
                    order_by=order,
                    descending=descending,
                    limit=limit,
                    needs=CHEAP,
                    source=source,
                )
                for source in (DAILY, EVENTS)
            ]
            assert answers[0] == answers[1], (spec, grouping, order)


async def test_day_series_from_the_rollup_equal_those_from_the_events(database, stored):
    rng = random.Random(3)
    async with database.session_factory() as session:
        for _ in range(20):
            start = DAY0 + timedelta(days=rng.randrange(0, 3))
            spec = replace(random_spec(rng, stored), start=start, end=start + timedelta(days=rng.randrange(1, 4)))
            bounds = boundaries(spec.start, spec.end, TimeInterval.DAY, ZoneInfo("UTC"))
            grouping = Grouping((rng.choice(ROLLUP_DIMENSIONS),)) if rng.random() < 0.5 else None
            assert rollup_answers(spec, CHEAP, grouping.dimensions if grouping else (), bounds)
            answers = [
                await UsageTimeSeries().series(session, spec, bounds, grouping, CHEAP, source)
                for source in (DAILY, EVENTS)
            ]
            assert answers[0] == answers[1], spec


async def test_recosting_moves_the_rollup_with_the_events(gql, database, stored):
    await gql.data(
        'mutation { setModelPrice(input: {workspaceId: "acme", provider: "acme", model: "m1", '
        'inputPerMillion: "3", outputPerMillion: "9"}) { id } }'
    )
    result = await gql.data('mutation { recostUsage(filter: {workspaceId: "acme"}) { changed } }')
    assert result["recostUsage"]["changed"] > 0
    spec = UsageFilterSpec(workspace_id=stored)
    async with database.session_factory() as session:
        rolled = await UsageAggregates().totals(session, spec, CHEAP, DAILY)
        counted = await UsageAggregates().totals(session, spec, CHEAP, EVENTS)
    assert rolled == counted
    assert rolled.unpriced_calls == 0


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


@pytest.mark.parametrize(
    ("change", "answers"),
    [
        ({}, True),
        ({"user_id": "u"}, False),
        ({"session_id": "s"}, False),
        ({"error_type": "timeout"}, False),
        ({"tags": (TagCondition("team"),)}, False),
        ({"start": DAY0 + timedelta(hours=1)}, False),
        ({"end": DAY0 + timedelta(days=1, seconds=1)}, False),
    ],
)
def test_the_rollup_answers_only_what_it_holds(change, answers):
    spec = replace(UsageFilterSpec(workspace_id=UUID(int=1), start=DAY0, end=DAY0 + timedelta(days=2)), **change)
    assert rollup_answers(spec, CHEAP) is answers


def test_percentiles_distinct_users_and_finer_dimensions_need_the_events():
    spec = UsageFilterSpec(workspace_id=UUID(int=1))
    assert not rollup_answers(
        spec, MetricNeeds(duration_percentiles=True, ttft_percentiles=False, distinct_users=False)
    )
    assert not rollup_answers(
        spec, MetricNeeds(duration_percentiles=False, ttft_percentiles=False, distinct_users=True)
    )
    assert not rollup_answers(spec, CHEAP, [UsageDimension.USER])
    assert not rollup_answers(spec, CHEAP, [UsageDimension.MODEL], [DAY0 + timedelta(hours=1)])
    assert rollup_answers(spec, CHEAP, [UsageDimension.MODEL, UsageDimension.PROVIDER_INSTANCE], [DAY0])
