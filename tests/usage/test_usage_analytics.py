"""usageAnalytics against a reference computed independently from the generated inputs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.documents import TRACK_BATCH
from tests.usage import dataset
from tests.usage.dataset import DAY_ONE, DAY_TWO, Event

METRICS = """calls successCount errorCount errorRate promptTokens completionTokens cachedPromptTokens
cacheWriteTokens reasoningTokens totalTokens costUsd unpricedCalls avgCostPerCall distinctUsers avgDurationMs
p50DurationMs p90DurationMs p95DurationMs p99DurationMs avgTimeToFirstTokenMs p50TimeToFirstTokenMs
p95TimeToFirstTokenMs avgTokensPerSecond"""
ANALYTICS = f"""query($filter: UsageFilter!) {{ usageAnalytics(filter: $filter) {{
  totals {{ {METRICS} }}
  byProvider {{ key metrics {{ {METRICS} }} }}
  byModel {{ key metrics {{ {METRICS} }} }}
  byTaskType {{ key metrics {{ {METRICS} }} }}
}} }}"""


def assert_metrics(answer: dict[str, Any], expected: dict[str, Any]) -> None:
    assert answer.keys() == expected.keys()
    for field, value in expected.items():
        if field == "costUsd":
            assert answer[field] == format(value.normalize(), "f") if value else answer[field] == "0", field
            assert Decimal(answer[field]) == value, field
        elif isinstance(value, Decimal):
            assert Decimal(answer[field]) == value, field
        elif isinstance(value, float):
            assert answer[field] == pytest.approx(value, rel=1e-12), field
        else:
            assert answer[field] == value, field


def assert_groups(answer: list[dict[str, Any]], expected: list[tuple[str | None, dict[str, Any]]]) -> None:
    assert [g["key"] for g in answer] == [key for key, _ in expected]
    for group, (_, metrics) in zip(answer, expected, strict=True):
        assert_metrics(group["metrics"], metrics)


def assert_analytics(answer: dict[str, Any], events: list[Event]) -> None:
    assert_metrics(answer["totals"], dataset.metrics(events))
    assert_groups(answer["byProvider"], dataset.groups(events, lambda e: e.provider))
    assert_groups(answer["byModel"], dataset.groups(events, lambda e: e.model))
    assert_groups(answer["byTaskType"], dataset.groups(events, lambda e: e.task_type))


@pytest.fixture
async def events(gql, workspace) -> list[Event]:
    await gql.data('mutation { createWorkspace(input: {name: "Beta", slug: "beta"}) { id } }')
    events = dataset.make_events(("acme", "beta"))
    data = await gql.data(TRACK_BATCH, inputs=[e.as_input() for e in events])
    assert data["trackUsageBatch"]["insertedCount"] == 60
    return events


async def analytics(gql, **filter: Any) -> dict[str, Any]:
    return (await gql.data(ANALYTICS, filter={"workspaceId": "acme", **filter}))["usageAnalytics"]


async def test_totals_and_every_group_of_a_workspace(gql, events):
    acme = [e for e in events if e.workspace == "acme"]
    answer = await analytics(gql)
    assert_analytics(answer, acme)
    # The same figures, written out, so a change in the reference cannot hide a change in the answer.
    totals = answer["totals"]
    assert (totals["calls"], totals["errorCount"], totals["unpricedCalls"]) == (50, 8, 10)
    assert (totals["promptTokens"], totals["completionTokens"], totals["totalTokens"]) == (58650, 16450, 75100)
    assert totals["costUsd"] == "0.087432485"
    assert [g["key"] for g in answer["byTaskType"]] == ["classify", "summarize", "chat", None]


async def test_the_other_workspace_sees_only_its_own_events(gql, events):
    beta = [e for e in events if e.workspace == "beta"]
    assert len(beta) == 10
    assert_analytics(await analytics(gql, workspaceId="beta"), beta)


@pytest.mark.parametrize(
    ("filter", "keep"),
    [
        ({"userId": "bob"}, lambda e: e.user_id == "bob"),
        ({"provider": "anthropic"}, lambda e: e.provider == "anthropic"),
        ({"provider": "OpenAI"}, lambda e: e.provider == "openai"),
        ({"model": "gpt-4o-mini"}, lambda e: e.model == "gpt-4o-mini"),
        ({"taskType": "summarize"}, lambda e: e.task_type == "summarize"),
        ({"status": "ERROR"}, lambda e: e.error),
        ({"status": "SUCCESS", "userId": "carol"}, lambda e: not e.error and e.user_id == "carol"),
        ({"from": DAY_TWO.isoformat()}, lambda e: e.occurred_at >= DAY_TWO),
        ({"to": DAY_TWO.isoformat()}, lambda e: e.occurred_at < DAY_TWO),
        ({"model": "no-such-model"}, lambda e: False),
    ],
    ids=["user", "provider", "provider-any-case", "model", "task", "errors", "user+status", "from", "to", "none"],
)
async def test_each_filter_narrows_to_the_expected_numbers(gql, events, filter, keep):
    expected = [e for e in events if e.workspace == "acme" and keep(e)]
    assert_analytics(await analytics(gql, **filter), expected)


async def test_from_is_inclusive_and_to_exclusive(gql, events):
    first_of_day_two = min(e.occurred_at for e in events if e.occurred_at >= DAY_TWO)
    assert first_of_day_two == DAY_TWO
    window = {"from": DAY_ONE.isoformat(), "to": DAY_TWO.isoformat()}
    day_one = await analytics(gql, **window)
    assert_analytics(day_one, [e for e in events if e.workspace == "acme" and e.occurred_at < DAY_TWO])
    exactly = await analytics(
        gql, **{"from": DAY_TWO.isoformat(), "to": (DAY_TWO + timedelta(microseconds=1)).isoformat()}
    )
    assert exactly["totals"]["calls"] == 1


async def test_no_matching_events_give_zeros_not_nulls(gql, workspace):
    answer = await analytics(gql)
    totals = answer["totals"]
    assert (totals["calls"], totals["costUsd"], totals["errorRate"], totals["totalTokens"]) == (0, "0", 0.0, 0)
    assert totals["p50DurationMs"] is None
    assert answer["byProvider"] == answer["byModel"] == answer["byTaskType"] == []


@pytest.mark.parametrize(
    ("filter", "field"),
    [
        ({"from": "2025-06-02T00:00:00Z", "to": "2025-06-01T00:00:00Z"}, "filter.to"),
        ({"from": "2025-06-01T00:00:00"}, "filter.from"),
        ({"providerInstanceId": "not-a-uuid"}, "filter.providerInstanceId"),
        ({"workspaceId": "nowhere"}, "filter.workspaceId"),
    ],
)
async def test_a_bad_filter_is_refused_naming_the_field(gql, workspace, filter, field):
    error = await gql.error(ANALYTICS, filter={"workspaceId": "acme", **filter})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field


COMPARE = f"""query($filter: UsageFilter!) {{ usageAnalytics(filter: $filter, compareTo: PREVIOUS_PERIOD) {{
  totals {{ {METRICS} }} previous {{ {METRICS} }}
  change {{ calls costUsd totalTokens errorRate distinctUsers avgDurationMs p95DurationMs }} }} }}"""


async def test_compared_with_the_previous_period(gql, events):
    window = {"workspaceId": "acme", "from": DAY_TWO.isoformat(), "to": (DAY_TWO + timedelta(days=1)).isoformat()}
    answer = (await gql.data(COMPARE, filter=window))["usageAnalytics"]
    now = dataset.metrics(e for e in events if e.workspace == "acme" and e.occurred_at >= DAY_TWO)
    before = dataset.metrics(e for e in events if e.workspace == "acme" and e.occurred_at < DAY_TWO)
    assert_metrics(answer["totals"], now)
    assert_metrics(answer["previous"], before)

    def percent(field: str) -> float:
        return float((Decimal(str(now[field])) - Decimal(str(before[field]))) * 100 / Decimal(str(before[field])))

    change = answer["change"]
    for graph_name in (
        "calls",
        "costUsd",
        "totalTokens",
        "errorRate",
        "distinctUsers",
        "avgDurationMs",
        "p95DurationMs",
    ):
        assert change[graph_name] == pytest.approx(percent(graph_name), abs=1e-4), graph_name
    assert change["calls"] == 0.0  # 25 calls each day


async def test_comparing_needs_a_closed_period(gql, events):
    error = await gql.error(COMPARE, filter={"workspaceId": "acme", "from": DAY_TWO.isoformat()})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "compareTo")
