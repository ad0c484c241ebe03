"""Usage read off recorded provider responses, as dicts and as SDK-like objects."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from llm_usage_client import anthropic_usage, gemini_usage, openai_usage

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def as_object(value: Any) -> Any:
    """The recorded JSON as attribute objects, the way the vendor SDKs expose it."""
    if isinstance(value, dict):
        return SimpleNamespace(**{k: as_object(v) for k, v in value.items()})
    if isinstance(value, list):
        return [as_object(v) for v in value]
    return value


@pytest.mark.parametrize("wrap", [lambda v: v, as_object], ids=["dict", "object"])
def test_openai_chat_completion_response_and_stream(wrap):
    assert openai_usage(wrap(fixture("openai_chat_completion.json"))) == {
        "provider": "openai",
        "model": "gpt-4o-2024-08-06",
        "prompt_tokens": 1117,
        "completion_tokens": 46,
        "cached_prompt_tokens": 1024,
        "reasoning_tokens": 0,
    }
    assert openai_usage(wrap(fixture("openai_response.json"))) == {
        "provider": "openai",
        "model": "o3-mini-2025-01-31",
        "prompt_tokens": 328,
        "completion_tokens": 1052,
        "cached_prompt_tokens": 128,
        "reasoning_tokens": 960,
    }
    assert openai_usage(wrap(fixture("openai_stream_chunks.json"))) == {
        "provider": "openai",
        "model": "gpt-4o-mini-2024-07-18",
        "prompt_tokens": 19,
        "completion_tokens": 2,
        "cached_prompt_tokens": 0,
        "reasoning_tokens": 0,
        "streamed": True,
    }


@pytest.mark.parametrize("wrap", [lambda v: v, as_object], ids=["dict", "object"])
def test_anthropic_cache_reads_and_writes_join_the_prompt(wrap):
    assert anthropic_usage(wrap(fixture("anthropic_message.json"))) == {
        "provider": "anthropic",
        "model": "claude-3-5-haiku-20241022",
        "prompt_tokens": 1500,
        "completion_tokens": 100,
        "cached_prompt_tokens": 1000,
        "cache_write_tokens": 300,
    }


def test_gemini_thinking_counts_as_completion_and_reasoning():
    assert gemini_usage(fixture("gemini_response.json")) == {
        "provider": "google",
        "model": "gemini-2.5-flash",
        "prompt_tokens": 1200,
        "completion_tokens": 330,
        "cached_prompt_tokens": 1000,
        "reasoning_tokens": 250,
    }


def test_with_the_openai_sdk_objects_where_installed():
    openai_types = pytest.importorskip("openai.types.chat")
    completion = openai_types.ChatCompletion.model_validate(fixture("openai_chat_completion.json"))
    assert openai_usage(completion)["cached_prompt_tokens"] == 1024
