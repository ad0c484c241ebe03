"""One model across dated snapshots: each event keeps the model it reported and the catalogue model that prices
it; grouping by CATALOGUE_MODEL sums `gpt-4o-2024-08-06` and `gpt-4o` in one row, grouping by MODEL keeps them
apart, and a filter on the catalogue model takes every snapshot. A snapshot the catalogue prices apart
(`gpt-4o-2024-05-13`) is its own catalogue model. unpricedModels still lists the reported names."""

from __future__ import annotations

from typing import Any

from tests.documents import TRACK_BATCH

GROUPED = """query($filter: UsageFilter!, $groupBy: [UsageDimension!]!) {
  usage(filter: $filter, groupBy: $groupBy, limit: 100) {
    groups { dimensions { dimension value } metrics { calls promptTokens costUsd } } } }"""
TOTALS = "query($filter: UsageFilter!) { usageAnalytics(filter: $filter) { totals { calls promptTokens } } }"
UNPRICED = '{ unpricedModels(filter: {workspaceId: "acme"}) { provider model calls } }'
EVENTS = (
    '{ usageEvents(filter: {workspaceId: "acme"}, first: 50) { edges { node { requestId model catalogueModel } } } }'
)
CALLS = [  # (request id, provider, reported model, prompt tokens)
    ("a", "openai", "gpt-4o-2024-08-06", 100),
    ("b", "openai", "gpt-4o-2024-08-06", 200),
    ("c", "openai", "gpt-4o", 400),
    ("d", "openai", "gpt-4o-2024-05-13", 800),
    ("e", "openai", "gpt-4o-mini-2024-07-18", 1600),
    ("f", "anthropic", "claude-3-5-haiku-20241022", 3200),
    ("g", "anthropic", "claude-3-5-haiku-latest", 6400),
    ("h", "mistral", "in-house-7b", 12800),
]


async def track(gql) -> None:
    await gql.data(
        TRACK_BATCH,
        inputs=[
            {"workspaceId": "acme", "requestId": r, "provider": p, "model": m, "promptTokens": n, "completionTokens": 0}
            for r, p, m, n in CALLS
        ],
    )


async def groups(gql, dimension: str, **conditions: Any) -> dict[str | None, tuple[int, int]]:
    data = await gql.data(GROUPED, filter={"workspaceId": "acme", **conditions}, groupBy=[dimension])
    return {
        g["dimensions"][0]["value"]: (g["metrics"]["calls"], g["metrics"]["promptTokens"])
        for g in data["usage"]["groups"]
    }


async def test_each_event_keeps_its_reported_model_and_the_catalogue_model(gql, workspace):
    await track(gql)
    events = (await gql.data(EVENTS))["usageEvents"]["edges"]
    assert sorted((e["node"]["requestId"], e["node"]["model"], e["node"]["catalogueModel"]) for e in events) == [
        ("a", "gpt-4o-2024-08-06", "gpt-4o"),
        ("b", "gpt-4o-2024-08-06", "gpt-4o"),
        ("c", "gpt-4o", "gpt-4o"),
        ("d", "gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),  # priced apart by the catalogue
        ("e", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("f", "claude-3-5-haiku-20241022", "claude-3-5-haiku-latest"),
        ("g", "claude-3-5-haiku-latest", "claude-3-5-haiku-latest"),
        ("h", "in-house-7b", None),
    ]


async def test_grouping_by_catalogue_model_merges_snapshots_and_by_model_keeps_them_apart(gql, workspace):
    await track(gql)
    assert await groups(gql, "CATALOGUE_MODEL") == {
        None: (1, 12800),
        "claude-3-5-haiku-latest": (2, 9600),
        "gpt-4o-mini": (1, 1600),
        "gpt-4o-2024-05-13": (1, 800),
        "gpt-4o": (3, 700),
    }
    assert await groups(gql, "MODEL") == {
        "in-house-7b": (1, 12800),
        "claude-3-5-haiku-latest": (1, 6400),
        "claude-3-5-haiku-20241022": (1, 3200),
        "gpt-4o-mini-2024-07-18": (1, 1600),
        "gpt-4o-2024-05-13": (1, 800),
        "gpt-4o": (1, 400),
        "gpt-4o-2024-08-06": (2, 300),
    }


async def test_a_filter_on_the_catalogue_model_takes_every_snapshot(gql, workspace):
    await track(gql)
    answer = await gql.data(TOTALS, filter={"workspaceId": "acme", "catalogueModel": "gpt-4o"})
    assert answer["usageAnalytics"]["totals"] == {"calls": 3, "promptTokens": 700}
    listed = {"workspaceId": "acme", "catalogueModels": ["gpt-4o-mini", "claude-3-5-haiku-latest"]}
    assert (await gql.data(TOTALS, filter=listed))["usageAnalytics"]["totals"] == {"calls": 3, "promptTokens": 11200}
    by_model = await groups(gql, "MODEL", catalogueModel="gpt-4o")
    assert by_model == {"gpt-4o": (1, 400), "gpt-4o-2024-08-06": (2, 300)}


async def test_unpriced_models_still_list_the_reported_names(gql, workspace):
    await track(gql)
    assert (await gql.data(UNPRICED))["unpricedModels"] == [{"provider": "mistral", "model": "in-house-7b", "calls": 1}]
