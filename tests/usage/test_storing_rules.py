"""What trackUsage/trackUsageBatch and recostUsage promise around storing, each rule on its own: the batch
limit, the events counted by what became of them (refusals inside the storing transaction included), the
field an unpriceable input's counts came from, and recosting in chunks with its totals over all of them."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx
import pytest

from modules.core.principal import Scope
from modules.usage.ingest import service as ingest_service
from modules.usage.ingest.validation import MAX_BATCH_SIZE
from tests.conftest import GraphQLClient, create_key
from tests.documents import TRACK_BATCH

TRACK = "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { duplicate } }"
RECOST = 'mutation { recostUsage(filter: {workspaceId: "acme"}) { examined changed costBeforeUsd costAfterUsd } }'
SET_PRICE = """mutation { setModelPrice(input: {workspaceId: "acme", provider: "mistral", model: "in-house-7b",
  inputPerMillion: "0.5", outputPerMillion: "1.5"}) { id } }"""
# genai-prices prices gemini-2.5-flash's cached audio, and cannot tell how audio and cached input overlap:
# counts it refuses to price, inside the storing transaction (validation lets them through).
UNPRICEABLE_KINDS = {"input_tokens": 10, "output_tokens": 1, "input_audio_tokens": 8, "cache_read_tokens": 8}
UNPRICEABLE_GEMINI = {
    "modelVersion": "gemini-2.5-flash",
    "usageMetadata": {
        "promptTokenCount": 10,
        "candidatesTokenCount": 1,
        "cachedContentTokenCount": 8,
        "promptTokensDetails": [{"modality": "AUDIO", "tokenCount": 8}],
    },
}


def call(request_id: str, **fields: Any) -> dict[str, Any]:
    given = {"workspaceId": "acme", "requestId": request_id, "provider": "openai", "model": "gpt-4o-mini"}
    return given | {"promptTokens": 10, "completionTokens": 1, "occurredAt": "2026-01-15T10:00:00Z"} | fields


def unpriceable(request_id: str) -> dict[str, Any]:
    return call(
        request_id, provider="google", model="gemini-2.5-flash", promptTokens=None, completionTokens=None,
        usageKinds=UNPRICEABLE_KINDS,
    )  # fmt: skip


async def event_counts(client: httpx.AsyncClient) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    found = re.findall(r'^llm_usage_events_total\{result="(\w+)"\} (\S+)$', text, re.M)
    return {result: float(value) for result, value in found}


async def test_a_batch_holds_at_most_the_limit(gql: GraphQLClient, workspace: dict[str, str]) -> None:
    full = [call(f"r{i}") for i in range(MAX_BATCH_SIZE)]
    assert (await gql.data(TRACK_BATCH, inputs=full))["trackUsageBatch"] == {"insertedCount": MAX_BATCH_SIZE}
    error = await gql.error(TRACK_BATCH, inputs=[*full, call("one-more")])
    assert (error["message"], error["extensions"]["field"]) == (
        f"inputs: at most {MAX_BATCH_SIZE} events per batch (got {MAX_BATCH_SIZE + 1}): split the batch",
        "inputs",
    )


async def test_events_are_counted_by_what_became_of_them(
    client: httpx.AsyncClient, gql: GraphQLClient, workspace: dict[str, str]
) -> None:
    await gql.data(TRACK_BATCH, inputs=[call("a"), call("b")])
    assert await event_counts(client) == {"inserted": 2.0}
    await gql.data(TRACK_BATCH, inputs=[call("a"), call("c"), call("d")])  # one stored before
    assert await event_counts(client) == {"inserted": 4.0, "duplicate": 1.0}
    await gql.data(TRACK, input=call("c"))
    assert await event_counts(client) == {"inserted": 4.0, "duplicate": 2.0}
    await gql.data(TRACK, input=call("e"))
    assert await event_counts(client) == {"inserted": 5.0, "duplicate": 2.0}
    # Refused by validation: the whole batch.
    await gql.error(TRACK_BATCH, inputs=[call("v1"), call("v2", promptTokens=-1)])
    assert await event_counts(client) == {"inserted": 5.0, "duplicate": 2.0, "rejected": 2.0}
    # Refused by the pricing inside the storing transaction: the whole batch, and a single call.
    error = await gql.error(TRACK_BATCH, inputs=[call("f"), unpriceable("g"), call("h")])
    assert (error["extensions"]["field"], error["extensions"]["index"]) == ("usageKinds", 1)
    assert await event_counts(client) == {"inserted": 5.0, "duplicate": 2.0, "rejected": 5.0}
    single = await gql.error(TRACK, input=unpriceable("i"))
    assert (single["extensions"]["field"], single["extensions"].get("index")) == ("usageKinds", None)
    assert single["message"].startswith("usageKinds: "), single["message"]
    assert await event_counts(client) == {"inserted": 5.0, "duplicate": 2.0, "rejected": 6.0}


@pytest.mark.parametrize(
    ("counts", "field"),
    [
        ({"usageKinds": UNPRICEABLE_KINDS}, "usageKinds"),
        ({"rawUsage": UNPRICEABLE_GEMINI}, "rawUsage"),
        ({"rawUsage": UNPRICEABLE_GEMINI, "usageKinds": {"web_searches": 1}}, "rawUsage"),
    ],
    ids=["usageKinds", "rawUsage", "rawUsage with usageKinds"],
)
async def test_counts_that_cannot_be_priced_are_refused_naming_where_they_came_from(
    gql: GraphQLClient, workspace: dict[str, str], counts: dict[str, Any], field: str
) -> None:
    given = call("x", provider="google", model="gemini-2.5-flash", promptTokens=None, completionTokens=None) | counts
    error = await gql.error(TRACK_BATCH, inputs=[call("ok"), given])
    assert (error["extensions"]["code"], error["extensions"]["field"], error["extensions"]["index"]) == (
        "BAD_USER_INPUT",
        field,
        1,
    )
    assert error["message"].startswith(f"inputs[1].{field}: "), error["message"]
    assert "cache_audio_read_tokens" in error["message"]


async def test_recosting_in_chunks_counts_and_sums_over_every_chunk(
    gql: GraphQLClient, workspace: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_service, "RECOST_CHUNK", 2)
    unknown = {"provider": "mistral", "model": "in-house-7b", "promptTokens": 1000, "completionTokens": 100}
    priced = {"promptTokens": 1000, "completionTokens": 100}  # gpt-4o-mini: 1000 x $0.15 + 100 x $0.60 a million
    await gql.data(
        TRACK_BATCH,
        inputs=[call("p1", **priced), call("u1", **unknown), call("u2", **unknown), call("p2", **priced), call("u3", **unknown)],
    )  # fmt: skip
    await gql.data(SET_PRICE)
    result = (await gql.data(RECOST))["recostUsage"]
    # 5 examined in chunks of 2, 2, 1; the three unknown now 1000 x $0.5 + 100 x $1.5 a million = $0.00065 each.
    assert result == {"examined": 5, "changed": 3, "costBeforeUsd": "0.00042", "costAfterUsd": "0.00237"}
    assert Decimal(result["costAfterUsd"]) == 2 * Decimal("0.00021") + 3 * Decimal("0.00065")


@pytest.mark.parametrize("scopes", [(Scope.READ,), (Scope.INGEST,), (Scope.READ, Scope.INGEST)], ids=str)
async def test_recosting_needs_admin(
    gql: GraphQLClient, workspace: dict[str, str], container: Any, scopes: tuple[Scope, ...]
) -> None:
    key = await create_key(container, workspace="acme", scopes=scopes)
    error = await gql.as_key(key).error(RECOST)
    assert (error["extensions"]["code"], error["message"]) == ("FORBIDDEN", "this key lacks the ADMIN scope")


async def test_recosting_prices_each_call_as_ingestion_did(gql: GraphQLClient, workspace: dict[str, str]) -> None:
    """Each count recost reads back matters to a price: an instance's own price, Anthropic's cache writes, and
    sonar-deep-research's reasoning tokens ($3 a million, against $8 for its other output). Priced again from
    what was stored, nothing changes."""
    created = await gql.data(
        'mutation { createProviderInstance(input: {workspaceId: "acme", provider: "openai", name: "eu"}) { id } }'
    )
    instance = created["createProviderInstance"]["id"]
    await gql.data(
        """mutation($id: ID) { setModelPrice(input: {workspaceId: "acme", provider: "openai", model: "gpt-4o-mini",
          inputPerMillion: "2", outputPerMillion: "0", providerInstanceId: $id}) { id } }""",
        id=instance,
    )
    await gql.data(
        TRACK_BATCH,
        inputs=[
            call("eu", providerInstanceId=instance, promptTokens=1000, completionTokens=0),
            call("cw", provider="anthropic", model="claude-sonnet-4-5", promptTokens=1000, cacheWriteTokens=800),
            call("rs", provider="perplexity", model="sonar-deep-research", completionTokens=1000, reasoningTokens=400),
        ],
    )
    costs = await gql.data('{ usageEvents(filter: {workspaceId: "acme"}) { edges { node { requestId costUsd } } } }')
    stored = {e["node"]["requestId"]: e["node"]["costUsd"] for e in costs["usageEvents"]["edges"]}
    # eu: 1000 x $2; cw: 200 x $3 + 800 x $3.75 + 1 x $15; rs: 10 x $2 + 600 x $8 + 400 x $3 (a million each)
    assert stored == {"eu": "0.002", "cw": "0.003615", "rs": "0.00602"}
    assert (await gql.data(RECOST))["recostUsage"] == {
        "examined": 3,
        "changed": 0,
        "costBeforeUsd": "0.011635",
        "costAfterUsd": "0.011635",
    }


async def test_every_reference_problem_of_a_batch_is_named_with_its_index(
    gql: GraphQLClient, workspace: dict[str, str]
) -> None:
    await gql.data('mutation { createWorkspace(input: {name: "Other", slug: "other"}) { id } }')
    instance = (
        "mutation($w: ID!, $p: String!) "
        '{ createProviderInstance(input: {workspaceId: $w, provider: $p, name: "i"}) { id } }'
    )
    ours = (await gql.data(instance, w="acme", p="openai"))["createProviderInstance"]["id"]
    theirs = (await gql.data(instance, w="other", p="openai"))["createProviderInstance"]["id"]
    error = await gql.error(
        TRACK_BATCH,
        inputs=[
            call("fine", providerInstanceId=ours),
            call("no-instance"),  # checked, then the next inputs still are
            call("nowhere", workspaceId="nowhere"),
            call("theirs", providerInstanceId=theirs),
            call("azure", provider="azure", model="gpt-4o", providerInstanceId=ours),
            call("unknown", providerInstanceId="3ef24f8a-e297-42c4-9756-18120beeec5e"),
        ],
    )
    assert [(p["field"], p["index"], p["reason"]) for p in error["extensions"]["problems"]] == [
        ("workspaceId", 2, "no workspace 'nowhere'"),
        ("providerInstanceId", 3, "no such provider instance in this workspace"),
        ("providerInstanceId", 4, "is an instance of 'openai', not 'azure'"),
        ("providerInstanceId", 5, "no such provider instance in this workspace"),
    ]
    assert error["message"] == "inputs[2].workspaceId: no workspace 'nowhere' (and 3 more problems)"
    # Problems in input order, whichever check found them (the values first, the references after).
    mixed = await gql.error(TRACK_BATCH, inputs=[call("a", workspaceId="nowhere"), call("b", completionTokens=-1)])
    assert [(p["field"], p["index"]) for p in mixed["extensions"]["problems"]] == [
        ("workspaceId", 0),
        ("completionTokens", 1),
    ]
    single = await gql.error(TRACK, input=call("one", providerInstanceId=theirs))
    assert (single["message"], single["extensions"]["field"], single["extensions"].get("index")) == (
        "providerInstanceId: no such provider instance in this workspace",
        "providerInstanceId",
        None,
    )


async def test_the_catalogue_model_is_named_for_the_provider_the_call_names(
    gql: GraphQLClient, workspace: dict[str, str]
) -> None:
    """A model name is looked up under the call's own provider: gpt-4o through "mistral" is no catalogue model
    (looked up without the provider it would be OpenAI's), Groq's Llama is Groq's."""
    await gql.data(
        TRACK_BATCH,
        inputs=[
            call("m", provider="mistral", model="gpt-4o"),
            call("g", provider="groq", model="llama-3.3-70b-versatile"),
        ],
    )
    query = '{ usageEvents(filter: {workspaceId: "acme"}) { edges { node { requestId catalogueModel costSource } } } }'

    async def named() -> dict[str, tuple[str | None, str]]:
        edges = (await gql.data(query))["usageEvents"]["edges"]
        return {e["node"]["requestId"]: (e["node"]["catalogueModel"], e["node"]["costSource"]) for e in edges}

    assert await named() == {"m": (None, "UNKNOWN_MODEL"), "g": ("llama-3.3-70b-versatile", "CATALOG")}
    assert (await gql.data(RECOST))["recostUsage"]["changed"] == 0
    assert await named() == {"m": (None, "UNKNOWN_MODEL"), "g": ("llama-3.3-70b-versatile", "CATALOG")}
