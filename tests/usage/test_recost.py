"""unpricedModels shows what to price; setModelPrice then recostUsage re-prices, never a caller's figure."""

from __future__ import annotations

from decimal import Decimal

from tests.documents import TRACK_BATCH

RECOST = 'mutation { recostUsage(filter: {workspaceId: "acme"}) { examined changed costBeforeUsd costAfterUsd } }'
UNPRICED = '{ unpricedModels(filter: {workspaceId: "acme"}) { provider model calls firstSeen lastSeen } }'
TOTALS = '{ usageAnalytics(filter: {workspaceId: "acme"}) { totals { costUsd unpricedCalls } } }'
SET_PRICE = """mutation { setModelPrice(input: {workspaceId: "acme", provider: "mistral", model: "in-house-7b",
  inputPerMillion: "0.5", outputPerMillion: "1.5"}) { id } }"""


def call(request_id: str, model: str, provider: str = "mistral", **fields) -> dict:
    return {
        "workspaceId": "acme",
        "requestId": request_id,
        "provider": provider,
        "model": model,
        "promptTokens": 1000,
        "completionTokens": 100,
        "occurredAt": "2025-06-01T00:00:00Z",
        **fields,
    }


async def test_pricing_an_unknown_model_then_recosting(gql, workspace):
    await gql.data(
        TRACK_BATCH,
        inputs=[
            call("u1", "in-house-7b"),
            call("u2", "in-house-7b"),
            call("u3", "in-house-7b", costUsd="9"),
            call("o1", "gpt-4o", provider="openai"),
            call("x1", "other-unknown"),
        ],
    )
    unpriced = (await gql.data(UNPRICED))["unpricedModels"]
    assert [(u["provider"], u["model"], u["calls"]) for u in unpriced] == [
        ("mistral", "in-house-7b", 2),
        ("mistral", "other-unknown", 1),
    ]
    assert unpriced[0]["firstSeen"] == unpriced[0]["lastSeen"] == "2025-06-01T00:00:00+00:00"
    # gpt-4o "0.0035" + the caller's "9"; three unpriced calls.
    assert (await gql.data(TOTALS))["usageAnalytics"]["totals"] == {"costUsd": "9.0035", "unpricedCalls": 3}

    await gql.data(SET_PRICE)
    result = (await gql.data(RECOST))["recostUsage"]
    # Examined: u1, u2, o1, x1 (u3 is the caller's). Changed: u1 and u2, now 1000 x $0.5 + 100 x $1.5 per million.
    assert result == {"examined": 4, "changed": 2, "costBeforeUsd": "0.0035", "costAfterUsd": "0.0048"}
    assert Decimal(result["costAfterUsd"]) - Decimal(result["costBeforeUsd"]) == 2 * Decimal("0.00065")
    assert (await gql.data(TOTALS))["usageAnalytics"]["totals"] == {"costUsd": "9.0048", "unpricedCalls": 1}
    events = await gql.data(
        '{ usageEvents(filter: {workspaceId: "acme", model: "in-house-7b"}) { edges { node { requestId costUsd costSource } } } }'
    )
    assert sorted(
        (e["node"]["requestId"], e["node"]["costUsd"], e["node"]["costSource"]) for e in events["usageEvents"]["edges"]
    ) == [
        ("u1", "0.00065", "WORKSPACE_OVERRIDE"),
        ("u2", "0.00065", "WORKSPACE_OVERRIDE"),
        ("u3", "9", "CALLER"),
    ]
    assert [u["model"] for u in (await gql.data(UNPRICED))["unpricedModels"]] == ["other-unknown"]

    again = (await gql.data(RECOST))["recostUsage"]
    assert again == {"examined": 4, "changed": 0, "costBeforeUsd": "0.0048", "costAfterUsd": "0.0048"}
