"""Invariants of ingestion that planted bugs survived: idempotency is per workspace, a batch is authorised event
by event, a failure in a stored-events hook stores nothing, and a workspace price charges each token kind once."""

from __future__ import annotations

from typing import Any

from modules.core.principal import Scope
from modules.usage.rollups.writer import RollupWriter
from tests.conftest import create_key, swapped

TRACK_BATCH = (
    "mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs) "
    "{ insertedCount duplicateCount duplicates } }"
)
TOTALS = '{ usageEvents(filter: {workspaceId: "%s"}) { totalCount } }'


def call(workspace: str, request_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "workspaceId": workspace,
        "requestId": request_id,
        "provider": "openai",
        "model": "gpt-4o",
        "promptTokens": 1000,
        "completionTokens": 100,
        **fields,
    }


async def events_of(gql, workspace: str) -> int:
    return int((await gql.data(TOTALS % workspace))["usageEvents"]["totalCount"])


async def test_one_request_id_in_two_workspaces_is_two_events(gql, workspace):
    await gql.data('mutation { createWorkspace(input: {name: "Beta", slug: "beta"}) { id } }')
    batch = [call("acme", "same"), call("beta", "same")]
    first = (await gql.data(TRACK_BATCH, inputs=batch))["trackUsageBatch"]
    assert first == {"insertedCount": 2, "duplicateCount": 0, "duplicates": [False, False]}
    again = (await gql.data(TRACK_BATCH, inputs=batch))["trackUsageBatch"]
    assert again == {"insertedCount": 0, "duplicateCount": 2, "duplicates": [True, True]}
    assert (await events_of(gql, "acme"), await events_of(gql, "beta")) == (1, 1)


async def test_a_batch_is_authorised_event_by_event(gql, workspace, container):
    await gql.data('mutation { createWorkspace(input: {name: "Beta", slug: "beta"}) { id } }')
    acme_key = gql.as_key(await create_key(container, workspace="acme", scopes=(Scope.INGEST,)))
    batch = [call("acme", "a1"), call("acme", "a2"), call("beta", "b1")]  # the other workspace is not first
    error = await acme_key.error(TRACK_BATCH, inputs=batch)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert (await events_of(gql, "acme"), await events_of(gql, "beta")) == (0, 0)


async def test_a_failure_in_a_stored_events_hook_stores_no_event(gql, workspace, container):
    class FailingRollups(RollupWriter):
        async def on_stored(self, session, events):
            raise RuntimeError("rollup failed")

    with swapped(container, container.usage.rollups, FailingRollups()):
        error = await gql.error(TRACK_BATCH, inputs=[call("acme", "r1"), call("acme", "r2")])
    assert error["extensions"]["code"] == "INTERNAL"
    assert await events_of(gql, "acme") == 0  # read from the events, not a rollup
    retried = (await gql.data(TRACK_BATCH, inputs=[call("acme", "r1"), call("acme", "r2")]))["trackUsageBatch"]
    assert retried["insertedCount"] == 2  # nothing of the failed batch was kept to make it a duplicate


async def test_a_workspace_price_charges_each_token_kind_once(gql, workspace):
    await gql.data(
        "mutation($input: SetModelPriceInput!) { setModelPrice(input: $input) { id } }",
        input={
            "workspaceId": "acme",
            "provider": "openai",
            "model": "gpt-4o",
            "inputPerMillion": "2",
            "outputPerMillion": "8",
            "cachedInputPerMillion": "1",
            "cacheWritePerMillion": "4",
        },
    )
    event = await gql.data(
        "mutation($input: TrackUsageInput!) { trackUsage(input: $input) "
        "{ event { inputCostUsd outputCostUsd costUsd costSource } } }",
        input=call("acme", "w1", cachedPromptTokens=200, cacheWriteTokens=300),
    )
    # Input: 500 plain x $2 + 200 cached x $1 + 300 written x $4 = 1,000 + 200 + 1,200 = 2,400 per million;
    # output: 100 x $8 = 800 per million.
    assert event["trackUsage"]["event"] == {
        "inputCostUsd": "0.0024",
        "outputCostUsd": "0.0008",
        "costUsd": "0.0032",
        "costSource": "WORKSPACE_OVERRIDE",
    }
