"""The server reads the provider's own usage: recorded wire shapes of every API flavour genai-prices extracts
(OpenAI chat, its audio and its streamed final chunk, Responses and its `response.completed` stream event,
embeddings, Anthropic messages and the `message_delta` that ends a stream, Gemini and a stream's last chunk),
sent as `rawUsage` — the whole body, and the usage object alone — are stored with genai-prices' own reading
of them: every kind, and the cost to the digit. Contradictions and unreadable shapes are refused by name."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.usage.genai_reading import EVENTS, as_read, genai_reading

FIXTURES = Path(__file__).parent.parent / "fixtures" / "provider_usage"
NAMES = sorted(path.stem for path in FIXTURES.glob("*.json"))
AT = (datetime.now(UTC) - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
TRACK = "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { event { requestId } } }"
ROOTS = {"openai": "usage", "anthropic": "usage", "google": "usageMetadata"}


def fixture(name: str) -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return recorded


def response_of(body: dict[str, Any]) -> dict[str, Any]:
    """The response a stream event belongs to (genai-prices reads responses, not stream envelopes)."""
    return body["response"] if body.get("type") == "response.completed" else body


async def stored(gql, workspace) -> dict[str, dict[str, Any]]:
    data = await gql.data(EVENTS, ws=workspace["slug"])
    return {edge["node"]["requestId"]: edge["node"] for edge in data["usageEvents"]["edges"]}


def test_every_flavour_genai_prices_extracts_has_a_recorded_fixture():
    flavours = {(fixture(n)["provider"], fixture(n)["api_flavor"]) for n in NAMES}
    assert flavours == {
        ("openai", "chat"),
        ("openai", "responses"),
        ("openai", "embeddings"),
        ("anthropic", "default"),
        ("google", "default"),
    }
    assert {"openai_chat_stream_final_chunk", "openai_responses_stream_completed"} <= set(NAMES)
    assert {"anthropic_stream_message_delta", "gemini_stream_last_chunk"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
async def test_a_recorded_response_is_stored_as_genai_prices_reads_it(gql, workspace, name):
    recorded = fixture(name)
    provider, flavor, body = recorded["provider"], recorded["api_flavor"], recorded["body"]
    model = recorded.get("model")  # a stream's last event may name none: the caller's model= then
    usage_alone = response_of(body)[ROOTS[provider]]
    common = {"workspaceId": workspace["slug"], "provider": provider, "occurredAt": AT.isoformat()}
    if model:
        common["model"] = model
    inputs = {
        "body": {**common, "rawUsage": body, "apiFlavor": flavor},
        "body, flavour guessed": {**common, "rawUsage": body},
        "usage alone": {**common, "rawUsage": usage_alone, "apiFlavor": flavor, "model": model or body.get("model")},
    }
    if inputs["usage alone"]["model"] is None:  # Gemini's body names it as modelVersion; Responses' inside
        inputs["usage alone"]["model"] = response_of(body).get("model") or body.get("modelVersion")
    for request_id, given in inputs.items():
        await gql.data(TRACK, input={**given, "requestId": request_id})
    expected = genai_reading(response_of(body), provider, flavor, AT, model)
    events = await stored(gql, workspace)
    assert {request_id: as_read(event) for request_id, event in events.items()} == dict.fromkeys(inputs, expected)
    reported = response_of(body).get("model") or body.get("modelVersion") or model
    assert {event["model"] for event in events.values()} == {reported}


async def test_explicit_counts_equal_to_the_raw_usage_are_accepted_and_contradicting_ones_refused(gql, workspace):
    body = fixture("openai_chat")["body"]
    base = {"workspaceId": workspace["slug"], "provider": "openai", "rawUsage": body}
    agreed = {**base, "requestId": "agreed", "promptTokens": 2117, "cachedPromptTokens": 1024, "cacheWriteTokens": 0}
    await gql.data(TRACK, input={**agreed, "usageKinds": {"web_searches": 3}})  # a kind the usage does not report
    error = await gql.error(TRACK, input={**base, "promptTokens": 2000, "reasoningTokens": 5})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert [(p["field"], p["reason"]) for p in error["extensions"]["problems"]] == [
        ("promptTokens", "(2000) disagrees with rawUsage, which reports 2117"),
        ("reasoningTokens", "(5) disagrees with rawUsage, which reports 0"),
    ]
    error = await gql.error(TRACK, input={**base, "usageKinds": {"cache_read_tokens": 1000}})
    assert (error["extensions"]["field"], error["message"]) == (
        "usageKinds",
        "usageKinds: cache_read_tokens (1000) disagrees with rawUsage, which reports 1024",
    )
    events = await stored(gql, workspace)
    assert list(events) == ["agreed"]
    assert (events["agreed"]["usageKinds"], events["agreed"]["promptTokens"]) == ({"web_searches": 3}, 2117)


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            {"rawUsage": {"colour": "red"}},
            "rawUsage",
            "is not a openai usage genai-prices can read (chat: Missing value at `usage.prompt_tokens`; ",
        ),
        (
            {"rawUsage": {"usage": {"prompt_tokens": "many", "completion_tokens": 1}}, "apiFlavor": "chat"},
            "rawUsage",
            "is not a openai usage genai-prices can read (chat: Expected `usage.prompt_tokens` value to be a",
        ),
        ({"rawUsage": [1, 2]}, "rawUsage", "must be a JSON object: the provider's usage object, response body or"),
        ({"rawUsage": {"prompt_tokens": 1}, "apiFlavor": "fax"}, "apiFlavor", "must be one of chat, responses,"),
        ({"rawUsage": {"prompt_tokens": 1}, "provider": "acme-llm"}, "provider", "genai-prices reads no usage of"),
        ({"usageKinds": {"input_tokens": 10, "output_tokens": 1, "cache_read_tokens": 11}}, "usageKinds", "cache_r"),
        ({"usageKinds": {"input_tokens": 10, "output_tokens": 1, "input_smell_tokens": 2}}, "usageKinds", "'input_s"),
        ({"usageKinds": {"input_tokens": 10, "output_tokens": -1}}, "usageKinds", "output_tokens must be a finite"),
        ({"usageKinds": {"input_tokens": 2**40, "output_tokens": 1}}, "usageKinds", "input_tokens must be a finite"),
        (
            {"rawUsage": {"prompt_tokens": 1.5, "completion_tokens": 1}, "apiFlavor": "chat"},
            "rawUsage",
            "input_tokens must be a whole",
        ),
        ({"rawUsage": {"prompt_tokens": 2**40, "completion_tokens": 1}}, "rawUsage", "input_tokens must be a finite"),
        ({"usageKinds": {"input_tokens": 1.5, "output_tokens": 1}}, "usageKinds", "input_tokens must be a whole n"),
        ({"usageKinds": {"input_audio_tokens": 5}}, "usageKinds", "input_audio_tokens (5) is given without input_"),
        ({"usageKinds": "lots"}, "usageKinds", "must be a JSON object of genai-prices usage kinds and counts"),
        (
            {
                "rawUsage": {
                    "input_tokens": 10,
                    "output_tokens": 1,
                    "cache_creation_input_tokens": 4,
                    "cache_creation": {"ephemeral_1h_input_tokens": 9},
                },
                "provider": "anthropic",
                "model": "claude-haiku-4-5",
            },
            "rawUsage",
            "cache_write_1h_tokens (9) cannot exceed cache_write_tokens (4)",
        ),
    ],
)
async def test_unreadable_or_contradicting_usage_is_refused_naming_the_field(gql, workspace, change, field, reason):
    given = {"workspaceId": workspace["slug"], "provider": "openai", "model": "gpt-4o", **change}
    error = await gql.error(TRACK, input=given)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    assert error["message"].startswith(f"{field}: {reason}"), error["message"]
    assert await stored(gql, workspace) == {}


async def test_counts_genai_prices_cannot_price_are_refused_naming_the_field(gql, workspace):
    """Audio and cached input overlap (cached audio) and gemini-2.5-flash prices cached audio: genai-prices
    cannot tell how they split and refuses to price it — the input is refused, nothing written."""
    given = {
        "workspaceId": workspace["slug"],
        "provider": "google",
        "model": "gemini-2.5-flash",
        "usageKinds": {"input_tokens": 10, "output_tokens": 1, "input_audio_tokens": 8, "cache_read_tokens": 8},
    }
    error = await gql.error(TRACK, input=given)
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "usageKinds")
    assert "cache_audio_read_tokens" in error["message"]
    assert await stored(gql, workspace) == {}


async def test_usage_kinds_alone_price_every_kind(gql, workspace):
    """Counts from the caller's own reckoning, in genai-prices' kinds: priced as genai-prices prices them."""
    kinds = {"input_tokens": 10_000, "output_tokens": 100, "input_audio_tokens": 9000}
    await gql.data(
        TRACK,
        input={
            "workspaceId": workspace["slug"],
            "provider": "google",
            "model": "gemini-2.5-flash",
            "usageKinds": kinds,
            "occurredAt": AT.isoformat(),
            "requestId": "kinds",
        },
    )
    body = {
        "modelVersion": "gemini-2.5-flash",
        "usageMetadata": {
            "promptTokenCount": 10_000,
            "candidatesTokenCount": 100,
            "promptTokensDetails": [{"modality": "AUDIO", "tokenCount": 9000}],
        },
    }
    event = (await stored(gql, workspace))["kinds"]
    assert as_read(event) == genai_reading(body, "google", "default", AT)
    assert (event["costUsd"], event["audioTokens"]) == ("0.00955", 9000)


async def test_the_raw_usage_of_a_model_the_catalogue_does_not_know_is_stored_unpriced(gql, workspace):
    """Reading needs the provider's extractor only: a fine-tune's response keeps its kinds, its cost is null."""
    body = {**fixture("openai_chat_audio")["body"], "model": "in-house-voice-2"}
    given = {"workspaceId": workspace["slug"], "provider": "OpenAI", "rawUsage": body, "requestId": "ft"}
    await gql.data(TRACK, input=given)
    event = (await stored(gql, workspace))["ft"]
    assert (event["model"], event["catalogueModel"], event["costUsd"], event["costSource"]) == (
        "in-house-voice-2",
        None,
        None,
        "UNKNOWN_MODEL",
    )
    assert (event["promptTokens"], event["completionTokens"], event["audioTokens"], event["usageKinds"]) == (
        1500,
        800,
        1900,
        {"input_audio_tokens": 1200, "output_audio_tokens": 700},
    )
