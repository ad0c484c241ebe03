"""The responses of issue 15's table, built with the official SDKs' own types (openai, anthropic, google-genai),
tracked through the client's helpers against a live server: the client sends the raw usage, the server reads
it, and each stored event's kinds and cost equal genai-prices' own reading (extract_usage + calc_price of the
SDK object's JSON) to the digit — and the cost the issue names, which the hand-written extraction missed by up
to 3x. Streams too: the chunks as the SDKs yield them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import anthropic.types as claude
import httpx
import pytest
from google.genai import types as gemini
from llm_usage_client import UsageTracker
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response

from tests.usage.genai_reading import EVENTS, as_read, genai_reading

AT = (datetime.now(UTC) - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)


def chat(model: str, usage: dict[str, Any]) -> ChatCompletion:
    return ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1764590000,
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
            "usage": usage,
        }
    )


def responses(model: str, usage: dict[str, Any]) -> Response:
    return Response.model_validate(
        {
            "id": "resp_1",
            "object": "response",
            "created_at": 1764590000,
            "model": model,
            "output": [],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": usage,
        }
    )


def message(model: str, usage: dict[str, Any]) -> claude.Message:
    return claude.Message.model_validate(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": "ok"}],
            "stop_reason": "end_turn",
            "usage": usage,
        }
    )


def generated(model: str, **usage: Any) -> gemini.GenerateContentResponse:
    return gemini.GenerateContentResponse(
        model_version=model, usage_metadata=gemini.GenerateContentResponseUsageMetadata(**usage)
    )


@dataclass(frozen=True)
class Row:
    """One row of the table: the SDK response, how the client tracks it, and genai-prices' reading of it."""

    response: Any
    track: str  # the tracker's helper
    provider: str
    flavor: str
    cost: str  # genai-prices' own figure, as the issue's table gives it
    read: Callable[[Any], Any] = lambda response: response.model_dump(mode="json", by_alias=True)
    model: str | None = None  # for a stream whose final event names none


OPENAI_CACHE_WRITES = {"prompt_tokens": 10_000, "completion_tokens": 1560, "total_tokens": 11_560}
ROWS = {
    "openai chat cache_write_tokens 6,000": Row(
        chat(
            "gpt-6-sol-2026-10-01",
            {**OPENAI_CACHE_WRITES, "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 6000}},
        ),
        "track_openai",
        "openai",
        "chat",
        "0.0386",
    ),
    "openai responses cache_write_tokens 6,000": Row(
        responses(
            "gpt-6-sol-2026-10-01",
            {
                "input_tokens": 10_000,
                "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 6000},
                "output_tokens": 1560,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 11_560,
            },
        ),
        "track_openai",
        "openai",
        "responses",
        "0.0386",
    ),
    "anthropic 1-hour cache writes 5,000": Row(
        message(
            "claude-sonnet-4-5-20250929",
            {
                "input_tokens": 800,
                "cache_creation_input_tokens": 5000,
                "cache_read_input_tokens": 0,
                "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 5000},
                "output_tokens": 950,
            },
        ),
        "track_anthropic",
        "anthropic",
        "default",
        "0.04665",
    ),
    "anthropic thinking tokens 2,500": Row(
        message(
            "claude-sonnet-4-5-20250929",
            {"input_tokens": 1200, "output_tokens": 3000, "output_tokens_details": {"thinking_tokens": 2500}},
        ),
        "track_anthropic",
        "anthropic",
        "default",
        "0.0486",
    ),
    "gemini toolUsePromptTokenCount 3,000": Row(
        generated(
            "gemini-2.5-flash",
            prompt_token_count=1000,
            candidates_token_count=200,
            tool_use_prompt_token_count=3000,
            total_token_count=4200,
        ),
        "track_gemini",
        "google",
        "default",
        "0.0017",
    ),
    "gemini audio prompt tokens 9,000 of 10,000": Row(
        generated(
            "gemini-2.5-flash",
            prompt_token_count=10_000,
            candidates_token_count=100,
            total_token_count=10_100,
            prompt_tokens_details=[
                gemini.ModalityTokenCount(modality=gemini.MediaModality.TEXT, token_count=1000),
                gemini.ModalityTokenCount(modality=gemini.MediaModality.AUDIO, token_count=9000),
            ],
        ),
        "track_gemini",
        "google",
        "default",
        "0.00955",
    ),
    "openai chat stream (include_usage)": Row(
        [
            ChatCompletionChunk.model_validate(chunk)
            for chunk in (
                {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": "gpt-4o-mini-2024-07-18",
                    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}],
                },
                {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": "gpt-4o-mini-2024-07-18",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                },
                {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": "gpt-4o-mini-2024-07-18",
                    "choices": [],
                    "usage": {
                        "prompt_tokens": 519,
                        "completion_tokens": 82,
                        "total_tokens": 601,
                        "prompt_tokens_details": {"cached_tokens": 256, "audio_tokens": 0},
                    },
                },
            )
        ],
        "track_openai",
        "openai",
        "chat",
        "0.00010785",
        read=lambda chunks: chunks[-1].model_dump(mode="json", by_alias=True),
    ),
    "anthropic stream events": Row(
        [
            claude.RawMessageStartEvent.model_validate(
                {
                    "type": "message_start",
                    "message": {
                        "id": "msg_2",
                        "type": "message",
                        "role": "assistant",
                        "model": "claude-haiku-4-5-20251001",
                        "content": [],
                        "stop_reason": None,
                        "usage": {"input_tokens": 472, "cache_read_input_tokens": 2048, "output_tokens": 1},
                    },
                }
            ),
            claude.RawContentBlockDeltaEvent.model_validate(
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}
            ),
            claude.RawMessageDeltaEvent.model_validate(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {
                        "input_tokens": 472,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 2048,
                        "output_tokens": 503,
                    },
                }
            ),
            claude.RawMessageStopEvent.model_validate({"type": "message_stop"}),
        ],
        "track_anthropic",
        "anthropic",
        "default",
        "0.0031918",
        read=lambda events: events[2].model_dump(mode="json", by_alias=True),
        model="claude-haiku-4-5-20251001",
    ),
    "gemini stream chunks": Row(
        [
            generated("gemini-2.5-flash-lite", prompt_token_count=2400, candidates_token_count=5),
            generated(
                "gemini-2.5-flash-lite",
                prompt_token_count=2400,
                candidates_token_count=95,
                cached_content_token_count=2048,
                total_token_count=2495,
            ),
        ],
        "track_gemini",
        "google",
        "default",
        "0.00009368",
        read=lambda chunks: chunks[-1].model_dump(mode="json", by_alias=True),
    ),
}


def stored_events(tenant) -> dict[str, dict[str, Any]]:
    response = httpx.post(
        f"{tenant.server.url}/graphql",
        json={"query": EVENTS, "variables": {"ws": tenant.slug}},
        headers={"Authorization": f"Bearer {tenant.key}"},
        timeout=30,
    )
    return {e["node"]["requestId"]: e["node"] for e in response.json()["data"]["usageEvents"]["edges"]}


def test_every_row_is_stored_as_genai_prices_reads_the_sdk_response(tenant):
    reported: list[Any] = []
    tracker = UsageTracker(tenant.server.url, tenant.key, workspace_id=tenant.slug, on_error=reported.append)
    for name, row in ROWS.items():
        assert getattr(tracker, row.track)(row.response, request_id=name, occurred_at=AT, model=row.model)
    assert tracker.flush(timeout=30)
    tracker.close()
    assert reported == []
    events = stored_events(tenant)
    for name, row in ROWS.items():
        expected = genai_reading(row.read(row.response), row.provider, row.flavor, AT, row.model)
        assert as_read(events[name]) == expected, name
        assert Decimal(events[name]["costUsd"]) == Decimal(row.cost), name
    assert {name: events[name]["streamed"] for name in ROWS if "stream" in name} == dict.fromkeys(
        [name for name in ROWS if "stream" in name], True
    )


def test_the_numbers_the_hand_written_extraction_lost(tenant):
    """The table's left column, now right: the kinds are stored where a dashboard sums them."""
    tracker = UsageTracker(tenant.server.url, tenant.key, workspace_id=tenant.slug)
    for name, row in ROWS.items():
        getattr(tracker, row.track)(row.response, request_id=name, occurred_at=AT, model=row.model)
    assert tracker.flush(timeout=30)
    tracker.close()
    events = stored_events(tenant)
    shown = {
        name: (e["promptTokens"], e["cacheWriteTokens"], e["reasoningTokens"], e["audioTokens"], e["totalTokens"])
        for name, e in events.items()
        if "stream" not in name
    }
    assert shown == {
        "openai chat cache_write_tokens 6,000": (10_000, 6000, 0, 0, 11_560),
        "openai responses cache_write_tokens 6,000": (10_000, 6000, 0, 0, 11_560),
        "anthropic 1-hour cache writes 5,000": (5800, 5000, 0, 0, 6750),
        "anthropic thinking tokens 2,500": (1200, 0, 2500, 0, 4200),
        "gemini toolUsePromptTokenCount 3,000": (4000, 0, 0, 0, 4200),
        "gemini audio prompt tokens 9,000 of 10,000": (10_000, 0, 0, 9000, 10_100),
    }
    assert events["anthropic 1-hour cache writes 5,000"]["usageKinds"] == {"cache_write_1h_tokens": 5000}
    assert events["gemini toolUsePromptTokenCount 3,000"]["usageKinds"] == {"input_tool_tokens": 3000}


@pytest.mark.parametrize("flavour", ["thread", "asyncio"])
def test_timed_calls_send_the_raw_usage_with_their_timing(tenant, flavour):
    from tests.client.trackers import run

    row = ROWS["anthropic 1-hour cache writes 5,000"]

    def work(tracker) -> None:
        with tracker.timed(request_id="timed", provider="anthropic", model="claude-sonnet-4-5", occurred_at=AT) as call:
            call.first_token()
            call.record_anthropic(row.response)

    done = run(flavour, tenant.server.url, tenant.key, work, workspace_id=tenant.slug)
    assert done.flushed
    event = stored_events(tenant)["timed"]
    assert (event["model"], event["catalogueModel"], event["costUsd"]) == (
        "claude-sonnet-4-5-20250929",  # the response's own name, as record_*() always kept it
        "claude-sonnet-4-5",
        "0.04665",
    )
    assert event["timeToFirstTokenMs"] is not None


def test_the_readme_example(tenant):
    """README's client example: the ChatCompletion the SDK returns, recorded in timed(), costs $0.00011835."""
    response = chat(
        "gpt-4o-mini-2024-07-18",
        {
            "prompt_tokens": 1117,
            "completion_tokens": 46,
            "total_tokens": 1163,
            "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
    )
    tracker = UsageTracker(tenant.server.url, tenant.key, workspace_id=tenant.slug)
    with tracker.timed(provider="openai", model="gpt-4o-mini", task_type="support-chat", user_id="customer-42") as call:
        call.record_openai(response)
    assert tracker.flush(timeout=30)
    tracker.close()
    (event,) = stored_events(tenant).values()
    assert (event["model"], event["catalogueModel"], event["promptTokens"], event["cachedPromptTokens"]) == (
        "gpt-4o-mini-2024-07-18",
        "gpt-4o-mini",
        1117,
        1024,
    )
    assert (event["costUsd"], event["inputCostUsd"], event["outputCostUsd"]) == (
        "0.00011835",
        "0.00009075",
        "0.0000276",
    )


def test_raw_usage_given_to_track_is_checked_as_json_and_read_by_the_server(tenant):
    reported: list[Any] = []
    tracker = UsageTracker(tenant.server.url, tenant.key, workspace_id=tenant.slug, on_error=reported.append)
    usage = {"input_tokens": 200, "cache_read_input_tokens": 1000, "output_tokens": 100}
    assert tracker.track(provider="anthropic", model="claude-3-5-haiku-latest", raw_usage=usage, request_id="ok")
    assert not tracker.track(provider="anthropic", model="claude-3-5-haiku-latest", raw_usage={"input_tokens": {1}})
    assert not tracker.track(provider="anthropic", model="m", raw_usage={"input_tokens": float("nan")})
    assert tracker.track(provider="anthropic", raw_usage=usage, request_id="no-model")  # the server needs one
    assert tracker.flush(timeout=30)
    tracker.close()
    assert [r.field for r in reported] == ["raw_usage", "raw_usage", "model"]
    assert [r.reason for r in reported] == [
        "raw_usage: holds a set, which is not JSON",
        "raw_usage: holds a number JSON cannot carry: nan",
        "event 'no-model': model: is required: rawUsage names no model",
    ]
    (event,) = stored_events(tenant).values()
    assert (event["requestId"], event["promptTokens"], event["cachedPromptTokens"], event["costUsd"]) == (
        "ok",
        1200,
        1000,
        "0.00064",
    )
