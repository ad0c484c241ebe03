"""What the helpers send of a response: the provider's usage object exactly as returned, the model it names, its
flavour when the response says it, and whether it streamed — nothing counted on the client (the server reads
the kinds: tests/client/test_sdk_usage.py). From plain JSON, attribute objects and the SDKs' own types alike;
never the response's content."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from google.genai import types as gemini
from llm_usage_client import anthropic_usage, gemini_usage, openai_usage
from openai.types.chat import ChatCompletion

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def as_object(value: Any) -> Any:
    """The recorded JSON as attribute objects."""
    if isinstance(value, dict):
        return SimpleNamespace(**{k: as_object(v) for k, v in value.items()})
    if isinstance(value, list):
        return [as_object(v) for v in value]
    return value


@pytest.mark.parametrize("wrap", [lambda v: v, as_object], ids=["dict", "object"])
def test_openai_responses_and_streams_send_their_usage_object(wrap):
    chat = fixture("openai_chat_completion.json")
    assert openai_usage(wrap(chat)) == {
        "provider": "openai",
        "model": "gpt-4o-2024-08-06",
        "raw_usage": chat["usage"],
        "api_flavor": "chat",
    }
    response = fixture("openai_response.json")
    assert openai_usage(wrap(response)) == {
        "provider": "openai",
        "model": "o3-mini-2025-01-31",
        "raw_usage": response["usage"],
        "api_flavor": "responses",
    }
    chunks = fixture("openai_stream_chunks.json")
    assert openai_usage(wrap(chunks)) == {
        "provider": "openai",
        "model": "gpt-4o-mini-2024-07-18",
        "raw_usage": chunks[-1]["usage"],
        "api_flavor": "chat",
        "streamed": True,
    }
    completed = {"type": "response.completed", "sequence_number": 9, "response": response}
    assert openai_usage(wrap([{"type": "response.created", "response": {**response, "usage": None}}, completed])) == {
        "provider": "openai",
        "model": "o3-mini-2025-01-31",
        "raw_usage": response["usage"],
        "api_flavor": "responses",
        "streamed": True,
    }


@pytest.mark.parametrize("wrap", [lambda v: v, as_object], ids=["dict", "object"])
def test_anthropic_messages_and_stream_events_send_their_usage_object(wrap):
    message = fixture("anthropic_message.json")
    assert anthropic_usage(wrap(message)) == {
        "provider": "anthropic",
        "model": "claude-3-5-haiku-20241022",
        "raw_usage": message["usage"],
    }
    start = {"type": "message_start", "message": {**message, "usage": {"input_tokens": 200, "output_tokens": 1}}}
    delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 100}}
    assert anthropic_usage(wrap([start, delta, {"type": "message_stop"}])) == {
        "provider": "anthropic",
        "model": "claude-3-5-haiku-20241022",
        "raw_usage": delta["usage"],
        "streamed": True,
    }


def test_gemini_sends_its_usage_metadata_as_the_wire_names_it():
    response = fixture("gemini_response.json")
    assert gemini_usage(response) == {
        "provider": "google",
        "model": "gemini-2.5-flash",
        "raw_usage": response["usageMetadata"],
    }
    sdk = gemini.GenerateContentResponse.model_validate(response)  # snake_case attributes, camelCase JSON
    assert gemini_usage(sdk) == gemini_usage(response)
    assert gemini_usage([sdk, sdk])["streamed"] is True


def test_a_response_without_usage_sends_its_model_and_zero_tokens():
    completion = ChatCompletion.model_validate({**fixture("openai_chat_completion.json"), "usage": None})
    assert openai_usage(completion) == {
        "provider": "openai",
        "model": "gpt-4o-2024-08-06",
        "prompt_tokens": 0,
        "completion_tokens": 0,
    }
    assert openai_usage([]) == {"provider": "openai", "prompt_tokens": 0, "completion_tokens": 0, "streamed": True}


def test_the_content_of_a_response_is_never_sent():
    chat = fixture("openai_chat_completion.json")
    sent = json.dumps(openai_usage(ChatCompletion.model_validate(chat)))
    assert "How can I assist you" not in sent and "chatcmpl-" not in sent
