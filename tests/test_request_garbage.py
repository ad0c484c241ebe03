"""A request's objects are freed when it ends, by reference counting: no cycle keeps its context, services,
loaders or variables waiting for the cyclic garbage collector, whose young collections of them took 40-80 ms
(the single calls' p99) once ~45,000 had piled up."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from service.context import Context
from service.graphql import LlmUsageExecutor
from tests.conftest import GraphQLClient

TRACK = """mutation($input: TrackUsageInput!) { trackUsage(input: $input) { duplicate event { costUsd } } }"""
BATCH = """mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs) { insertedCount } }"""
TOTALS = """query($w: ID!) { usageAnalytics(filter: {workspaceId: $w}) {
  totals { calls costUsd p95DurationMs } byModel { key metrics { calls } } } }"""


def event(workspace: str, number: int) -> dict[str, Any]:
    return {
        "workspaceId": workspace,
        "requestId": f"garbage-{number}",
        "occurredAt": "2025-01-10T10:00:00Z",
        "provider": "openai",
        "model": "gpt-4o",
        "promptTokens": 100,
        "completionTokens": 20,
        "durationMs": 500,
        "userId": "u1",
        "tags": {"feature": "chat"},
    }


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def alive(kind: type) -> int:
    return sum(1 for item in gc.get_objects() if type(item) is kind)


async def test_requests_leave_no_context_or_executor_for_the_collector(
    gql: GraphQLClient, workspace: dict[str, str], collector_off: None
) -> None:
    await gql.data(TRACK, input=event(workspace["id"], 0))  # first calls fill the caches
    await gql.data(TOTALS, w=workspace["id"])
    contexts, executors = alive(Context), alive(LlmUsageExecutor)
    for number in range(1, 6):
        assert (await gql.data(TRACK, input=event(workspace["id"], number)))["trackUsage"]["duplicate"] is False
    batch = [event(workspace["id"], number) for number in range(10, 60)]
    assert (await gql.data(BATCH, inputs=batch))["trackUsageBatch"]["insertedCount"] == 50
    totals = (await gql.data(TOTALS, w=workspace["id"]))["usageAnalytics"]["totals"]
    assert totals["calls"] == 56
    assert (alive(Context), alive(LlmUsageExecutor)) == (contexts, executors)
