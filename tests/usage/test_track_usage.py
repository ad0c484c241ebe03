"""trackUsage and trackUsageBatch: idempotent, whole-or-nothing, validated field by field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from modules.users.service import UserService
from tests.conftest import swapped

EVENT_FIELDS = """id workspaceId requestId occurredAt receivedAt provider model providerInstanceId taskType userId
sessionId promptTokens completionTokens totalTokens cachedPromptTokens cacheWriteTokens reasoningTokens costUsd
inputCostUsd outputCostUsd costSource durationMs timeToFirstTokenMs tokensPerSecond status errorType errorMessage
retryCount streamed tags"""
TRACK = f"mutation($input: TrackUsageInput!) {{ trackUsage(input: $input) {{ duplicate event {{ {EVENT_FIELDS} }} }} }}"
TRACK_BATCH = f"""mutation($inputs: [TrackUsageInput!]!) {{ trackUsageBatch(inputs: $inputs) {{
  insertedCount duplicateCount duplicates events {{ {EVENT_FIELDS} }} }} }}"""
TOTALS = '{ usageAnalytics(filter: {workspaceId: "acme"}) { totals { calls promptTokens costUsd } } }'


def call(**fields: Any) -> dict[str, Any]:
    return {
        "workspaceId": "acme",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "promptTokens": 1000,
        "completionTokens": 200,
        **fields,
    }


async def totals(gql) -> dict[str, Any]:
    return (await gql.data(TOTALS))["usageAnalytics"]["totals"]


async def test_every_field_is_stored_and_returned(gql, workspace):
    given = call(
        requestId="r-1",
        occurredAt="2025-06-01T10:00:00+02:00",
        taskType="chat",
        userId="alice",
        sessionId="s-9",
        totalTokens=1250,
        cachedPromptTokens=100,
        cacheWriteTokens=0,
        reasoningTokens=50,
        durationMs=2000,
        timeToFirstTokenMs=300,
        status="ERROR",
        errorType="timeout",
        errorMessage="upstream timed out",
        retryCount=2,
        streamed=True,
        tags={"feature": "search", "env": "prod"},
    )
    result = (await gql.data(TRACK, input=given))["trackUsage"]
    event = result["event"]
    assert result["duplicate"] is False
    assert event["workspaceId"] == workspace["id"]
    assert event["occurredAt"] == "2025-06-01T08:00:00+00:00"
    assert datetime.fromisoformat(event["receivedAt"]) > datetime.now(UTC) - timedelta(minutes=1)
    assert {k: event[k] for k in ("requestId", "provider", "model", "taskType", "userId", "sessionId")} == {
        "requestId": "r-1",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "taskType": "chat",
        "userId": "alice",
        "sessionId": "s-9",
    }
    assert (event["promptTokens"], event["completionTokens"], event["totalTokens"]) == (1000, 200, 1250)
    assert (event["cachedPromptTokens"], event["cacheWriteTokens"], event["reasoningTokens"]) == (100, 0, 50)
    assert (event["durationMs"], event["timeToFirstTokenMs"], event["tokensPerSecond"]) == (2000, 300, 100.0)
    assert (event["status"], event["errorType"], event["errorMessage"]) == ("ERROR", "timeout", "upstream timed out")
    assert (event["retryCount"], event["streamed"], event["tags"]) == (2, True, {"feature": "search", "env": "prod"})
    # 900 x $0.15 + 100 x $0.075 input, 200 x $0.60 output, per million.
    assert (event["inputCostUsd"], event["outputCostUsd"], event["costUsd"]) == ("0.0001425", "0.00012", "0.0002625")


async def test_defaults_a_request_id_now_success_and_the_token_total(gql, workspace):
    before = datetime.now(UTC)
    event = (await gql.data(TRACK, input=call()))["trackUsage"]["event"]
    assert len(event["requestId"]) == 36
    assert before <= datetime.fromisoformat(event["occurredAt"]) <= datetime.now(UTC)
    assert (event["status"], event["totalTokens"], event["retryCount"], event["tags"]) == ("SUCCESS", 1200, 0, {})
    assert event["tokensPerSecond"] is None
    with_error = (await gql.data(TRACK, input=call(errorType="rate_limit")))["trackUsage"]["event"]
    assert with_error["status"] == "ERROR"


async def test_a_retried_request_is_stored_once(gql, workspace):
    first = (await gql.data(TRACK, input=call(requestId="same")))["trackUsage"]
    again = (await gql.data(TRACK, input=call(requestId="same", promptTokens=5)))["trackUsage"]
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert again["event"] == first["event"]
    assert await totals(gql) == {"calls": 1, "promptTokens": 1000, "costUsd": first["event"]["costUsd"]}


async def test_a_batch_stores_new_events_and_recognises_retries(gql, workspace):
    await gql.data(TRACK, input=call(requestId="earlier"))
    inputs = [call(requestId="a"), call(requestId="earlier"), call(requestId="b"), call(requestId="a")]
    batch = (await gql.data(TRACK_BATCH, inputs=inputs))["trackUsageBatch"]
    assert (batch["insertedCount"], batch["duplicateCount"]) == (2, 2)
    assert batch["duplicates"] == [False, True, False, True]
    assert [e["requestId"] for e in batch["events"]] == ["a", "earlier", "b", "a"]
    assert batch["events"][0] == batch["events"][3]
    again = (await gql.data(TRACK_BATCH, inputs=inputs))["trackUsageBatch"]
    assert (again["insertedCount"], again["duplicateCount"]) == (0, 4)
    assert again["events"] == batch["events"]
    assert (await totals(gql))["calls"] == 3


async def test_one_invalid_input_rejects_the_whole_batch_naming_index_and_field(gql, workspace):
    inputs = [call(requestId="ok-1"), call(requestId="bad", completionTokens=-3), call(requestId="ok-2")]
    error = await gql.error(TRACK_BATCH, inputs=inputs)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert (error["extensions"]["index"], error["extensions"]["field"]) == (1, "completionTokens")
    assert error["message"] == "inputs[1].completionTokens: must not be negative (got -3)"
    assert (await totals(gql))["calls"] == 0


async def test_every_problem_of_a_batch_is_listed(gql, workspace):
    inputs = [call(promptTokens=-1), call(), call(model="x" * 201, tags={"nested": {"a": "b"}})]
    error = await gql.error(TRACK_BATCH, inputs=inputs)
    assert [(p["index"], p["field"]) for p in error["extensions"]["problems"]] == [
        (0, "promptTokens"),
        (2, "model"),
        (2, "tags"),
    ]


async def test_a_batch_is_stored_whole_or_not_at_all_when_the_database_fails(gql, workspace, container):
    class FailingUsers(UserService):
        async def register_seen(self, session, pairs):  # after the events were inserted, same transaction
            raise RuntimeError("disk full")

    real = container.users.service()
    failing = FailingUsers(database=real.database, repository=real.repository, workspaces=real.workspaces)
    with swapped(container, container.users.service, failing):
        error = await gql.error(TRACK_BATCH, inputs=[call(requestId=f"r{i}", userId="u") for i in range(3)])
    assert error["extensions"]["code"] == "INTERNAL"
    assert "disk full" not in error["message"]
    assert (await totals(gql))["calls"] == 0


async def test_more_than_a_thousand_inputs_are_refused(gql, workspace):
    error = await gql.error(TRACK_BATCH, inputs=[call()] * 1001)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "inputs")


async def test_an_empty_batch_stores_nothing(gql, workspace):
    batch = (await gql.data(TRACK_BATCH, inputs=[]))["trackUsageBatch"]
    assert (batch["insertedCount"], batch["duplicateCount"], batch["events"]) == (0, 0, [])


async def test_users_are_registered_on_first_sight(gql, workspace):
    await gql.data(TRACK_BATCH, inputs=[call(userId="zoe"), call(userId="adam"), call(userId="zoe"), call()])
    users = await gql.data('{ users(workspaceId: "acme") { totalCount edges { node { id displayName } } } }')
    assert users["users"]["totalCount"] == 2
    assert [e["node"]["id"] for e in users["users"]["edges"]] == ["adam", "zoe"]


def ten_minutes_ahead() -> str:
    """Computed when the test runs: a time taken at import is in the past once the suite has run 5 minutes."""
    return (datetime.now(UTC) + timedelta(minutes=10)).isoformat()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"promptTokens": -1}, "promptTokens"),
        ({"durationMs": -5}, "durationMs"),
        ({"timeToFirstTokenMs": -1}, "timeToFirstTokenMs"),
        ({"retryCount": -1}, "retryCount"),
        ({"durationMs": 100, "timeToFirstTokenMs": 200}, "timeToFirstTokenMs"),
        ({"durationMs": 24 * 3600 * 1000 + 1}, "durationMs"),
        ({"totalTokens": 1199}, "totalTokens"),
        ({"cachedPromptTokens": 900, "cacheWriteTokens": 101}, "cachedPromptTokens"),
        ({"reasoningTokens": 201}, "reasoningTokens"),
        ({"workspaceId": "nowhere"}, "workspaceId"),
        ({"occurredAt": ten_minutes_ahead}, "occurredAt"),
        ({"occurredAt": "2025-06-01T10:00:00"}, "occurredAt"),
        ({"provider": ""}, "provider"),
        ({"model": "m" * 201}, "model"),
        ({"requestId": "r" * 201}, "requestId"),
        ({"userId": "u" * 257}, "userId"),
        ({"taskType": "bad\x00type"}, "taskType"),
        ({"errorMessage": "e" * 4001}, "errorMessage"),
        ({"costUsd": "-0.01"}, "costUsd"),
        ({"tags": ["a"]}, "tags"),
        ({"tags": {"a": 1}}, "tags"),
        ({"tags": {"a": {"b": "c"}}}, "tags"),
        ({"tags": {f"k{i}": "v" for i in range(33)}}, "tags"),
        ({"tags": {"k" * 65: "v"}}, "tags"),
        ({"tags": {"k": "v" * 257}}, "tags"),
        ({"providerInstanceId": "3ef24f8a-e297-42c4-9756-18120beeec5e"}, "providerInstanceId"),
    ],
)
async def test_invalid_input_is_refused_naming_the_field(gql, workspace, change, field):
    change = {name: value() if callable(value) else value for name, value in change.items()}
    error = await gql.error(TRACK, input=call(**change))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert "index" not in error["extensions"]
    assert (await totals(gql))["calls"] == 0


@pytest.mark.parametrize(
    "change",
    [{"promptTokens": 2**31}, {"promptTokens": "12"}, {"costUsd": "abc"}, {"status": "MAYBE"}, {"provider": None}],
)
async def test_values_of_the_wrong_type_are_bad_user_input(gql, workspace, change):
    error = await gql.error(TRACK, input=call(**change))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_provider_instance_must_match_the_events_provider(gql, workspace):
    created = await gql.data(
        'mutation { createProviderInstance(input: {workspaceId: "acme", provider: "azure", name: "fr"}) { id } }'
    )
    instance = created["createProviderInstance"]["id"]
    error = await gql.error(TRACK, input=call(providerInstanceId=instance))
    assert error["extensions"]["field"] == "providerInstanceId"
    event = await gql.data(TRACK, input=call(provider="azure", model="gpt-4o", providerInstanceId=instance))
    assert event["trackUsage"]["event"]["providerInstanceId"] == instance


async def test_values_graphql_cannot_coerce_are_named_by_batch_index_and_field(gql, workspace):
    """graphql-core's own coercion error named no event; a client could only drop the whole batch."""
    inputs = [
        call(requestId="ok"),
        call(requestId="bad-flavour", apiFlavor=7),
        call(requestId="bad-count", completionTokens="x"),
        call(requestId="too-big", promptTokens=2**31),
        call(requestId="ok-2"),
    ]
    error = await gql.error(TRACK_BATCH, inputs=inputs)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert [(p["index"], p["field"]) for p in error["extensions"]["problems"]] == [
        (1, "apiFlavor"),
        (2, "completionTokens"),
        (3, "promptTokens"),
    ]
    assert error["message"].startswith("inputs[1].apiFlavor: ")
    assert (await totals(gql))["calls"] == 0


async def test_without_raw_usage_the_model_and_both_counts_are_required(gql, workspace):
    """model, promptTokens and completionTokens may be left out only when rawUsage (or usageKinds) says them."""
    missing_model = {k: v for k, v in call(requestId="no-model").items() if k != "model"}
    no_counts = {k: v for k, v in call(requestId="no-counts").items() if not k.endswith("Tokens")}
    error = await gql.error(TRACK_BATCH, inputs=[call(requestId="ok"), missing_model, no_counts])
    assert [(p["index"], p["field"], p["reason"]) for p in error["extensions"]["problems"]] == [
        (1, "model", "is required"),
        (2, "promptTokens", "is required (or give rawUsage or usageKinds)"),
        (2, "completionTokens", "is required (or give rawUsage or usageKinds)"),
    ]
    single = await gql.error(TRACK, input=missing_model)
    assert (single["extensions"]["field"], "index" in single["extensions"]) == ("model", False)
    assert (await totals(gql))["calls"] == 0
