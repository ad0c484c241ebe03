"""What trackUsage charges: the catalogue at the call's own time, a workspace's price, the caller's figure."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import genai_prices
import pytest

TRACK = """mutation($input: TrackUsageInput!) { trackUsage(input: $input) { duplicate event {
  costUsd inputCostUsd outputCostUsd costSource } } }"""
SET_PRICE = """mutation($input: SetModelPriceInput!) { setModelPrice(input: $input) {
  id provider model effectiveFrom inputPerMillion outputPerMillion cachedInputPerMillion cacheWritePerMillion } }"""


async def track(gql, **fields: Any) -> dict[str, Any]:
    given = {
        "workspaceId": "acme",
        "provider": "openai",
        "model": "gpt-4o",
        "promptTokens": 1000,
        "completionTokens": 100,
        **fields,
    }
    return (await gql.data(TRACK, input=given))["trackUsage"]["event"]


async def test_gpt_4o_costs_exactly_what_genai_prices_says(gql, workspace):
    event = await track(gql, occurredAt="2025-06-01T12:00:00Z")
    expected = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=1000, output_tokens=100),
        "gpt-4o",
        provider_id="openai",
        genai_request_timestamp=datetime(2025, 6, 1, 12, tzinfo=UTC),
    )
    assert Decimal(event["costUsd"]) == expected.total_price
    assert event == {"costUsd": "0.0035", "inputCostUsd": "0.0025", "outputCostUsd": "0.001", "costSource": "CATALOG"}


async def test_cached_tokens_are_part_of_the_prompt_and_priced_at_their_own_rate(gql, workspace):
    # 1000 prompt tokens of which 400 read from cache: 600 x $2.50 + 400 x $1.25 per million.
    event = await track(gql, cachedPromptTokens=400)
    assert event["inputCostUsd"] == "0.002"
    assert event["costUsd"] == "0.003"


async def test_an_anthropic_call_with_cache_reads_and_writes(gql, workspace):
    # Anthropic reports input_tokens=200 excluding cache_read_input_tokens=1000 and
    # cache_creation_input_tokens=300: promptTokens is their sum, 1500.
    event = await track(
        gql,
        provider="anthropic",
        model="claude-3-5-haiku-latest",
        promptTokens=1500,
        completionTokens=100,
        cachedPromptTokens=1000,
        cacheWriteTokens=300,
    )
    # 200 x $0.80 + 1000 x $0.08 + 300 x $1.00 input, 100 x $4 output, per million.
    assert event == {
        "costUsd": "0.00094",
        "inputCostUsd": "0.00054",
        "outputCostUsd": "0.0004",
        "costSource": "CATALOG",
    }


async def test_reasoning_tokens_are_part_of_the_completion(gql, workspace):
    plain = await track(gql, requestId="plain")
    reasoning = await track(gql, requestId="reasoning", reasoningTokens=60)
    assert reasoning["costUsd"] == plain["costUsd"] == "0.0035"


async def test_the_catalogue_price_is_the_one_in_force_when_the_call_happened(gql, workspace):
    # claude-sonnet-4-6 charged $6/M input above 200K input tokens until 2026-03-13, a flat $3/M after.
    fields = {"provider": "anthropic", "model": "claude-sonnet-4-6", "promptTokens": 300_000, "completionTokens": 0}
    before = await track(gql, requestId="before", occurredAt="2026-03-01T00:00:00Z", **fields)
    after = await track(gql, requestId="after", occurredAt="2026-04-01T00:00:00Z", **fields)
    assert (before["costUsd"], after["costUsd"]) == ("1.8", "0.9")


async def test_a_workspace_price_wins_over_the_catalogue(gql, workspace):
    price = await gql.data(
        SET_PRICE,
        input={
            "workspaceId": "acme",
            "provider": "OpenAI",
            "model": "gpt-4o",
            "inputPerMillion": "1",
            "outputPerMillion": "2",
            "cachedInputPerMillion": "0.5",
        },
    )
    assert price["setModelPrice"]["provider"] == "openai"
    assert price["setModelPrice"]["effectiveFrom"] == "1970-01-01T00:00:00+00:00"
    event = await track(gql, cachedPromptTokens=200)
    # 800 x $1 + 200 x $0.50 input, 100 x $2 output, per million.
    assert event == {
        "costUsd": "0.0011",
        "inputCostUsd": "0.0009",
        "outputCostUsd": "0.0002",
        "costSource": "WORKSPACE_OVERRIDE",
    }


async def test_the_latest_workspace_price_in_force_at_the_call_applies(gql, workspace):
    for start, rate in (("2025-01-01T00:00:00Z", "1"), ("2025-06-01T00:00:00Z", "3")):
        await gql.data(
            SET_PRICE,
            input={
                "workspaceId": "acme",
                "provider": "openai",
                "model": "gpt-4o",
                "inputPerMillion": rate,
                "outputPerMillion": "0",
                "effectiveFrom": start,
            },
        )
    older = await track(gql, requestId="a", occurredAt="2024-12-31T23:59:59Z")
    first = await track(gql, requestId="b", occurredAt="2025-05-31T00:00:00Z")
    second = await track(gql, requestId="c", occurredAt="2025-06-01T00:00:00Z")
    assert (older["costSource"], older["costUsd"]) == ("CATALOG", "0.0035")
    assert (first["costSource"], first["costUsd"]) == ("WORKSPACE_OVERRIDE", "0.001")
    assert (second["costSource"], second["costUsd"]) == ("WORKSPACE_OVERRIDE", "0.003")


async def test_a_provider_instance_price_wins_for_calls_through_that_instance(gql, workspace):
    created = await gql.data(
        'mutation { createProviderInstance(input: {workspaceId: "acme", provider: "openai", name: "prod-eu"}) { id } }'
    )
    instance = created["createProviderInstance"]["id"]
    for instance_id, rate in ((None, "1"), (instance, "2")):
        await gql.data(
            SET_PRICE,
            input={
                "workspaceId": "acme",
                "provider": "openai",
                "model": "gpt-4o",
                "inputPerMillion": rate,
                "outputPerMillion": "0",
                "providerInstanceId": instance_id,
            },
        )
    through_instance = await track(gql, requestId="eu", providerInstanceId=instance)
    elsewhere = await track(gql, requestId="other")
    assert (through_instance["costUsd"], elsewhere["costUsd"]) == ("0.002", "0.001")


async def test_the_callers_own_cost_wins(gql, workspace):
    await gql.data(
        SET_PRICE,
        input={
            "workspaceId": "acme",
            "provider": "openai",
            "model": "gpt-4o",
            "inputPerMillion": "1",
            "outputPerMillion": "1",
        },
    )
    event = await track(gql, costUsd="0.4200")
    assert event == {"costUsd": "0.42", "inputCostUsd": None, "outputCostUsd": None, "costSource": "CALLER"}


async def test_an_unknown_model_is_stored_unpriced_and_counted(gql, workspace):
    unknown = await track(gql, requestId="u", model="gpt-from-the-future")
    unknown_provider = await track(gql, requestId="p", provider="in-house", model="llama-finetune")
    known = await track(gql, requestId="k")
    assert (
        unknown
        == unknown_provider
        == {"costUsd": None, "inputCostUsd": None, "outputCostUsd": None, "costSource": "UNKNOWN_MODEL"}
    )
    totals = await gql.data(
        '{ usageAnalytics(filter: {workspaceId: "acme"}) { totals { calls costUsd unpricedCalls } } }'
    )
    assert totals["usageAnalytics"]["totals"] == {"calls": 3, "costUsd": known["costUsd"], "unpricedCalls": 2}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"inputPerMillion": "-1"}, "inputPerMillion"),
        ({"outputPerMillion": "NaN"}, None),
        ({"model": ""}, "model"),
        ({"effectiveFrom": "2025-01-01T00:00:00"}, "effectiveFrom"),
        ({"providerInstanceId": "3ef24f8a-e297-42c4-9756-18120beeec5e"}, "providerInstanceId"),
    ],
)
async def test_a_bad_price_is_refused(gql, workspace, change, field):
    given = {
        "workspaceId": "acme",
        "provider": "openai",
        "model": "gpt-4o",
        "inputPerMillion": "1",
        "outputPerMillion": "1",
        **change,
    }
    error = await gql.error(SET_PRICE, input=given)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    if field:
        assert error["extensions"]["field"] == field
    prices = await gql.data('{ modelPrices(workspaceId: "acme") { id } }')
    assert prices["modelPrices"] == []
