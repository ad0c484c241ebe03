"""`usage`: any grouping of up to 4 dimensions against a reference computed from the generated inputs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.documents import TRACK_BATCH
from tests.usage import dataset
from tests.usage.dataset import DIMENSIONS, Event
from tests.usage.test_usage_analytics import METRICS, assert_metrics

# Each dimension's plain field on a group, as the schema names it.
PLAIN_FIELDS = {
    "PROVIDER": "provider", "PROVIDER_INSTANCE": "providerInstanceId", "MODEL": "model",
    "CATALOGUE_MODEL": "catalogueModel", "TASK_TYPE": "taskType", "USER": "userId", "SESSION": "sessionId",
    "STATUS": "status", "ERROR_TYPE": "errorType", "TAG": "tag",
}  # fmt: skip
USAGE = f"""query($filter: UsageFilter!, $groupBy: [UsageDimension!]!, $orderBy: UsageOrder, $limit: Int!, $tagKey: String) {{
  usage(filter: $filter, groupBy: $groupBy, orderBy: $orderBy, limit: $limit, tagKey: $tagKey) {{
    groups {{ dimensions {{ dimension value }} {" ".join(PLAIN_FIELDS.values())} metrics {{ {METRICS} }} }}
    others {{ {METRICS} }}
    columns {{ dimensions {{ dimension values }} metrics {{ {METRICS} }} }}
  }} }}"""


@pytest.fixture
async def events(gql, workspace) -> list[Event]:
    await gql.data('mutation { createWorkspace(input: {name: "Beta", slug: "beta"}) { id } }')
    events = dataset.make_events(("acme", "beta"))
    await gql.data(TRACK_BATCH, inputs=[e.as_input() for e in events])
    return [e for e in events if e.workspace == "acme"]


async def usage(gql, group_by: list[str], **arguments: Any) -> dict[str, Any]:
    variables = {"filter": {"workspaceId": "acme"}, "groupBy": group_by, "limit": 1000, "tagKey": "env", **arguments}
    return (await gql.data(USAGE, **variables))["usage"]


def assert_groups(answer: dict[str, Any], expected: list[tuple[Any, dict[str, Any]]], group_by: list[str]) -> None:
    keys = [tuple(d["value"] for d in g["dimensions"]) for g in answer["groups"]]
    assert all([d["dimension"] for d in g["dimensions"]] == group_by for g in answer["groups"])
    assert keys == [k if isinstance(k, tuple) else (k,) for k, _ in expected]
    assert answer["columns"] == as_columns(answer["groups"], group_by)
    for group, (_, metrics) in zip(answer["groups"], expected, strict=True):
        assert_metrics(group["metrics"], metrics)
        values = {d["dimension"]: d["value"] for d in group["dimensions"]}
        assert {group[field] for d, field in PLAIN_FIELDS.items() if d not in group_by} == {None}
        assert {d: group[PLAIN_FIELDS[d]] for d in group_by} == values


def as_columns(groups: list[dict[str, Any]], group_by: list[str]) -> dict[str, Any]:
    """The groups as `columns` lists them: each dimension's values and each metric, in the groups' order."""
    return {
        "dimensions": [
            {"dimension": d, "values": [g["dimensions"][i]["value"] for g in groups]} for i, d in enumerate(group_by)
        ],
        "metrics": {name: [g["metrics"][name] for g in groups] for name in METRICS.split()},
    }


@pytest.mark.parametrize("dimension", sorted(DIMENSIONS))
async def test_every_single_dimension(gql, events, dimension):
    answer = await usage(gql, [dimension])
    assert_groups(answer, dataset.groups(events, DIMENSIONS[dimension]), [dimension])
    assert answer["others"] is None


@pytest.mark.parametrize("group_by", [["PROVIDER", "MODEL"], ["USER", "TASK_TYPE"], ["MODEL", "STATUS", "TAG", "USER"]])
async def test_combinations_of_dimensions(gql, events, group_by):
    answer = await usage(gql, group_by)
    expected = dataset.groups(events, lambda e: tuple(DIMENSIONS[d](e) for d in group_by))
    assert_groups(answer, expected, group_by)


async def test_the_rest_is_summed_as_others_so_totals_add_up(gql, events):
    answer = await usage(gql, ["SESSION"], limit=3)
    expected = dataset.groups(events, DIMENSIONS["SESSION"])
    assert_groups(answer, expected[:3], ["SESSION"])
    shown = {k for k, _ in expected[:3]}
    assert_metrics(answer["others"], dataset.metrics(e for e in events if e.session_id not in shown))
    totals = dataset.metrics(events)
    for field in ("calls", "errorCount", "promptTokens", "totalTokens", "unpricedCalls"):
        assert sum(g["metrics"][field] for g in answer["groups"]) + answer["others"][field] == totals[field]


async def test_groups_can_be_ordered_by_any_metric_either_way(gql, events):
    answer = await usage(gql, ["MODEL"], orderBy={"by": "P95_DURATION_MS", "direction": "ASC"})
    p95s = [g["metrics"]["p95DurationMs"] for g in answer["groups"]]
    assert p95s == sorted(p95s)
    calls = await usage(gql, ["USER"], orderBy={"by": "CALLS", "direction": "DESC"}, limit=1)
    top = min(dataset.groups(events, DIMENSIONS["USER"]), key=lambda kv: (-kv[1]["calls"], kv[0]))
    assert calls["groups"][0]["dimensions"][0]["value"] == top[0]
    assert calls["others"]["calls"] == len(events) - top[1]["calls"]


async def test_tag_filters(gql, events):
    prod_search = await usage(
        gql, ["TAG"], filter={"workspaceId": "acme", "tags": [{"key": "feature", "value": "search"}, {"key": "env"}]}
    )
    expected = [e for e in events if e.tags["feature"] == "search" and "env" in e.tags]
    assert [g["metrics"]["calls"] for g in prod_search["groups"]] == [len(expected)]


async def test_in_lists_and_error_type_filter(gql, events):
    answer = await usage(
        gql,
        ["MODEL"],
        filter={
            "workspaceId": "acme",
            "models": ["gpt-4o", "in-house-7b"],
            "userIds": ["alice", "bob"],
            "errorType": "rate_limit",
        },
    )
    kept = [e for e in events if e.model in ("gpt-4o", "in-house-7b") and e.user_id in ("alice", "bob") and e.error]
    assert_groups(answer, dataset.groups(kept, DIMENSIONS["MODEL"]), ["MODEL"])


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"groupBy": ["MODEL", "USER", "SESSION", "STATUS", "PROVIDER"]}, "groupBy"),
        ({"groupBy": ["MODEL", "MODEL"]}, "groupBy"),
        ({"groupBy": ["TAG"], "tagKey": None}, "tagKey"),
        ({"groupBy": ["MODEL"], "limit": 0}, "limit"),
        ({"groupBy": ["MODEL"], "limit": 1001}, "limit"),
    ],
)
async def test_bad_groupings_are_refused(gql, workspace, arguments, field):
    variables = {"filter": {"workspaceId": "acme"}, "limit": 10, "tagKey": None, **arguments}
    error = await gql.error(USAGE, **variables)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field)
