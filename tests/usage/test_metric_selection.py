"""Percentiles, distinct users and every optional sum are computed only when asked for, however they
are asked: directly, in fragments, or through an ordering."""

from __future__ import annotations

from tests.documents import TRACK_BATCH


async def seed(gql) -> None:
    inputs = [
        {"workspaceId": "acme", "provider": "openai", "model": model, "promptTokens": 10, "completionTokens": 1,
         "durationMs": duration, "timeToFirstTokenMs": duration // 10, "userId": user}
        for model, duration, user in [
            ("gpt-4o", 100, "a"), ("gpt-4o", 200, "b"), ("gpt-4o", 300, "a"),
            ("gpt-4o-mini", 1000, "c"), ("gpt-4o-mini", 3000, "c"), ("o3", 50, "d"),
        ]
    ]  # fmt: skip
    await gql.data(TRACK_BATCH, inputs=inputs)


async def test_percentiles_in_a_fragment_are_computed(gql, workspace):
    await seed(gql)
    query = """
      fragment Latency on UsageMetrics { p50DurationMs p95TimeToFirstTokenMs }
      { usageAnalytics(filter: {workspaceId: "acme"}) {
          totals { calls distinctUsers ...Latency }
          byModel { key metrics { ... on UsageMetrics { p50DurationMs distinctUsers } } } } }"""
    data = (await gql.data(query))["usageAnalytics"]
    assert data["totals"] == {"calls": 6, "distinctUsers": 4, "p50DurationMs": 250.0, "p95TimeToFirstTokenMs": 250.0}
    assert {g["key"]: g["metrics"] for g in data["byModel"]} == {
        "gpt-4o": {"p50DurationMs": 200.0, "distinctUsers": 2},
        "gpt-4o-mini": {"p50DurationMs": 2000.0, "distinctUsers": 1},
        "o3": {"p50DurationMs": 50.0, "distinctUsers": 1},
    }


async def test_ordering_by_a_percentile_works_without_selecting_it(gql, workspace):
    await seed(gql)
    query = """{ usage(filter: {workspaceId: "acme"}, groupBy: [MODEL], orderBy: {by: P95_DURATION_MS}, limit: 2) {
        groups { value(dimension: MODEL) metrics { calls } } others { calls } } }"""
    data = (await gql.data(query))["usage"]
    assert [(g["value"], g["metrics"]["calls"]) for g in data["groups"]] == [("gpt-4o-mini", 2), ("gpt-4o", 3)]
    assert data["others"] == {"calls": 1}
    query = query.replace("P95_DURATION_MS", "DISTINCT_USERS")
    data = (await gql.data(query))["usage"]
    assert [g["value"] for g in data["groups"]] == ["gpt-4o", "gpt-4o-mini"]


async def test_sums_are_the_same_whether_or_not_percentiles_are_asked(gql, workspace):
    await seed(gql)
    lean = '{ usageTimeSeries(filter: {workspaceId: "acme"}, interval: DAY) { buckets { metrics { calls totalTokens avgDurationMs } } } }'
    full = lean.replace("avgDurationMs", "avgDurationMs p99DurationMs distinctUsers")
    lean_buckets = [b["metrics"] for b in (await gql.data(lean))["usageTimeSeries"]["buckets"] if b["metrics"]["calls"]]
    full_buckets = [b["metrics"] for b in (await gql.data(full))["usageTimeSeries"]["buckets"] if b["metrics"]["calls"]]
    assert lean_buckets == [{"calls": 6, "totalTokens": 66, "avgDurationMs": 775.0}]
    [full_bucket] = full_buckets
    assert round(full_bucket.pop("p99DurationMs"), 6) == 2900.0  # 1000 + 0.95 * (3000 - 1000), interpolated
    assert full_bucket == {"calls": 6, "totalTokens": 66, "avgDurationMs": 775.0, "distinctUsers": 4}


ALL_FIELDS = [
    "calls",
    "successCount",
    "errorCount",
    "errorRate",
    "promptTokens",
    "completionTokens",
    "cachedPromptTokens",
    "cacheWriteTokens",
    "reasoningTokens",
    "totalTokens",
    "costUsd",
    "unpricedCalls",
    "avgCostPerCall",
    "distinctUsers",
    "avgDurationMs",
    "avgTimeToFirstTokenMs",
    "avgTokensPerSecond",
]


async def test_each_metric_asked_alone_equals_the_same_metric_asked_with_all_the_others(gql, workspace):
    """Sums not selected are not computed: each one, selected alone (in a fragment, for one of them), still has
    the value it has when every metric is selected; and ordering by one not selected orders by its real value."""
    await seed(gql)
    await gql.data(
        TRACK_BATCH,
        inputs=[{"workspaceId": "acme", "provider": "openai", "model": "o3", "promptTokens": 7, "completionTokens": 2,
                 "errorType": "timeout", "durationMs": 40}],
    )  # fmt: skip
    query = '{ usage(filter: {workspaceId: "acme"}, groupBy: [MODEL]) { groups { value(dimension: MODEL) metrics { %s } } } }'
    everything = (await gql.data(query % " ".join(ALL_FIELDS)))["usage"]["groups"]
    assert {g["value"]: g["metrics"]["errorCount"] for g in everything} == {"gpt-4o": 0, "gpt-4o-mini": 0, "o3": 1}
    for field in ALL_FIELDS:
        selection = f"... on UsageMetrics {{ {field} }}" if field == "errorRate" else field
        alone = (await gql.data(query % selection))["usage"]["groups"]
        assert [g["metrics"][field] for g in alone] == [g["metrics"][field] for g in everything], field
    ordered = '{ usage(filter: {workspaceId: "acme"}, groupBy: [MODEL], orderBy: {by: ERROR_RATE}) { groups { value(dimension: MODEL) } } }'
    assert (await gql.data(ordered))["usage"]["groups"][0] == {"value": "o3"}


async def test_others_asked_through_a_fragment_are_computed(gql, workspace):
    """`others` costs a second statement, made only when selected: directly or in a fragment."""
    await seed(gql)
    query = """fragment Rest on GroupedUsage { others { calls } }
      { usage(filter: {workspaceId: "acme"}, groupBy: [MODEL], limit: 1) { groups { metrics { calls } } ...Rest } }"""
    assert (await gql.data(query))["usage"] == {"groups": [{"metrics": {"calls": 3}}], "others": {"calls": 3}}
