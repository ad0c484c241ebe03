"""Usage read off the official SDKs' responses (or their JSON), in llm-usage's token accounting:
promptTokens counts every input token, cache reads and writes included; completionTokens include reasoning.
Works on SDK objects and plain dicts alike, without importing any vendor SDK."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def read(source: Any, *names: str) -> Any:
    """The first present field of `names` (dict key or attribute); None if none."""
    for name in names:
        value = source.get(name) if isinstance(source, dict) else getattr(source, name, None)
        if value is not None:
            return value
    return None


def count(source: Any, *names: str) -> int:
    return int(read(source, *names) or 0) if source is not None else 0


def is_stream(response: Any) -> bool:
    """Chunks (a list, a generator, the SDK's Stream), not one response: a response names its model and kind,
    and may be iterable itself (the SDK's pydantic models yield their fields), with or without usage."""
    return (
        not isinstance(response, (dict, str, bytes))
        and isinstance(response, Iterable)
        and read(response, "model", "object", "usage") is None
    )


def openai_usage(response: Any) -> dict[str, Any]:
    """A chat completion, a Responses API response, or the chunks of a stream created with
    `stream_options={"include_usage": True}` (the last chunk carries the usage). Without usage (a stream made
    without include_usage, or a response whose `usage` is None) the tokens are zero."""
    streamed = False
    if is_stream(response):
        chunks = list(response)
        streamed = True
        response = next((c for c in reversed(chunks) if read(c, "usage") is not None), chunks[-1] if chunks else {})
    usage = read(response, "usage") or {}
    prompt = count(usage, "prompt_tokens", "input_tokens")
    completion = count(usage, "completion_tokens", "output_tokens")
    fields = {
        "provider": "openai",
        "model": read(response, "model"),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "cached_prompt_tokens": count(read(usage, "prompt_tokens_details", "input_tokens_details"), "cached_tokens"),
        "reasoning_tokens": count(
            read(usage, "completion_tokens_details", "output_tokens_details"), "reasoning_tokens"
        ),
    }
    if streamed:
        fields["streamed"] = True
    return fields


def anthropic_usage(message: Any) -> dict[str, Any]:
    """Anthropic's `input_tokens` excludes cache reads and writes: promptTokens is the sum of the three."""
    usage = read(message, "usage") or {}
    cache_read = count(usage, "cache_read_input_tokens")
    cache_write = count(usage, "cache_creation_input_tokens")
    return {
        "provider": "anthropic",
        "model": read(message, "model"),
        "prompt_tokens": count(usage, "input_tokens") + cache_read + cache_write,
        "completion_tokens": count(usage, "output_tokens"),
        "cached_prompt_tokens": cache_read,
        "cache_write_tokens": cache_write,
    }


def gemini_usage(response: Any) -> dict[str, Any]:
    """Gemini counts thinking apart from candidates: completionTokens is their sum, reasoningTokens the
    thinking. promptTokenCount already includes cached content."""
    usage = read(response, "usage_metadata", "usageMetadata") or {}
    thoughts = count(usage, "thoughts_token_count", "thoughtsTokenCount")
    return {
        "provider": "google",
        "model": read(response, "model_version", "modelVersion"),
        "prompt_tokens": count(usage, "prompt_token_count", "promptTokenCount"),
        "completion_tokens": count(usage, "candidates_token_count", "candidatesTokenCount") + thoughts,
        "cached_prompt_tokens": count(usage, "cached_content_token_count", "cachedContentTokenCount"),
        "reasoning_tokens": thoughts,
    }
