"""The events trackUsageBatch answers with are what a later read gives, value for value: instants in UTC, money
at the column's ten places, tags in jsonb's key order, the first of two inputs with one request id."""

from __future__ import annotations

import json
from typing import Any

FIELDS = """requestId occurredAt receivedAt provider model costUsd inputCostUsd outputCostUsd costSource tags
promptTokens completionTokens totalTokens status"""
TRACK_BATCH = (
    f"""mutation($inputs: [TrackUsageInput!]!) {{ trackUsageBatch(inputs: $inputs) {{ events {{ {FIELDS} }} }} }}"""
)
READ = f"""{{ usageEvents(filter: {{workspaceId: "acme"}}, first: 10) {{ edges {{ node {{ {FIELDS} }} }} }} }}"""
NASTY_TAGS = {"zz": "1", "a": "2", "é": "3", "b": "4", "ab": "5", "\U0001f600": "6", "A": "7"}


def call(request_id: str, **fields: Any) -> dict[str, Any]:
    given = {"workspaceId": "acme", "requestId": request_id, "provider": "openai", "model": "gpt-4o-mini"}
    return {**given, "promptTokens": 1234, "completionTokens": 567, **fields}


async def test_the_answered_events_are_what_a_later_read_gives(gql, workspace):
    inputs = [
        call("r-1", occurredAt="2026-11-30T23:30:00.123456+14:00", tags=NASTY_TAGS),
        call("r-2", occurredAt="2026-11-30T01:00:00-14:00", costUsd="0.123456789012345"),  # more than ten places
        call("r-3", costUsd="0.00000000005"),  # half of the last place: to the even neighbour, as pricing rounds
        call("r-4", costUsd="0.00000000015"),
        call("r-1", tags={"other": "x"}),  # a duplicate within the batch: the first one is stored
    ]
    answered = (await gql.data(TRACK_BATCH, inputs=inputs))["trackUsageBatch"]["events"]
    read = {edge["node"]["requestId"]: edge["node"] for edge in (await gql.data(READ))["usageEvents"]["edges"]}
    assert [json.dumps(event) for event in answered] == [json.dumps(read[event["requestId"]]) for event in answered]
    assert [e["costUsd"] for e in answered[1:4]] == ["0.123456789", "0", "0.0000000002"]
    assert answered[0]["occurredAt"] == "2026-11-30T09:30:00.123456+00:00"
    assert list(answered[0]["tags"]) == ["A", "a", "b", "ab", "zz", "é", "\U0001f600"]
    assert answered[4] == answered[0]
