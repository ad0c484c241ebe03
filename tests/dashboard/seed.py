"""The events the dashboard tests look at, stored through the API, at fixed times (the tests' clock)."""

from __future__ import annotations

from typing import Any

# The range the tests view (UTC), and the period of the same length before it.
FROM = "2025-06-10T00:00:00Z"
TO = "2025-06-12T00:00:00Z"
RANGE = f"from={FROM}&to={TO}"

EVENTS: list[dict[str, Any]] = [
    # The previous period: one call, for the changes.
    {
        "requestId": "prev-1",
        "provider": "openai",
        "model": "gpt-4o",
        "promptTokens": 1000,
        "completionTokens": 100,
        "occurredAt": "2025-06-09T12:00:00Z",
        "userId": "alice",
        "taskType": "chat",
        "durationMs": 1000,
    },
    # 1,000 x $2.50 + 100 x $10 per million: "0.0035".
    {
        "requestId": "r-1",
        "provider": "openai",
        "model": "gpt-4o",
        "promptTokens": 1000,
        "completionTokens": 100,
        "occurredAt": "2025-06-10T09:30:00Z",
        "userId": "alice",
        "taskType": "chat",
        "sessionId": "sess-1",
        "durationMs": 1200,
        "timeToFirstTokenMs": 300,
        "tags": {"feature": "search"},
    },
    # claude-3-5-haiku with cache reads and writes: "0.00094".
    {
        "requestId": "r-2",
        "provider": "anthropic",
        "model": "claude-3-5-haiku-latest",
        "promptTokens": 1500,
        "cachedPromptTokens": 1000,
        "cacheWriteTokens": 300,
        "completionTokens": 100,
        "occurredAt": "2025-06-10T10:15:00Z",
        "userId": "bob",
        "taskType": "search",
        "sessionId": "sess-1",
        "durationMs": 800,
        "timeToFirstTokenMs": 200,
        "tags": {"feature": "chat"},
    },
    # A failed gpt-4o-mini call: 400 x $0.15 + 50 x $0.60 per million = "0.00009".
    {
        "requestId": "r-3",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "promptTokens": 400,
        "completionTokens": 50,
        "occurredAt": "2025-06-11T08:00:00Z",
        "userId": "alice",
        "taskType": "chat",
        "status": "ERROR",
        "errorType": "rate_limit",
        "durationMs": 400,
        "retryCount": 2,
    },
    # A model no catalogue knows: stored, unpriced.
    {
        "requestId": "r-4",
        "provider": "acme",
        "model": "mystery-1",
        "promptTokens": 100,
        "completionTokens": 10,
        "occurredAt": "2025-06-11T20:00:00Z",
        "userId": "carol",
        "taskType": "summarise",
        "durationMs": 2000,
    },
]

# What the range holds (r-1 … r-4), as the overview must show it.
CALLS = "4"
TOKENS = "3260"
COST = "0.00453"

# Another range, for the price-and-recost test (its own unknown model, nothing else in it).
RECOST_FROM = "2025-07-01T00:00:00Z"
RECOST_TO = "2025-07-02T00:00:00Z"
RECOST_EVENT = {
    "requestId": "recost-1",
    "provider": "acme",
    "model": "recost-me",
    "promptTokens": 1_000_000,
    "completionTokens": 500_000,
    "occurredAt": "2025-07-01T12:00:00Z",
}


def batch(workspace: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "query": "mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs) { insertedCount } }",
        "variables": {"inputs": [{"workspaceId": workspace, **event} for event in events]},
    }
