"""What the provider helpers send of a response: its usage object exactly as the provider returned it, the
model it names, its API flavour when the response says it, and whether it was streamed. Nothing is counted
here: the server reads every token kind off the raw usage with genai-prices (cache reads and 5-minute and
1-hour writes, audio, reasoning, tool-use tokens, searches…). Works on the official SDKs' objects (pydantic
models, dumped as their JSON) and plain dicts alike, without importing any vendor SDK; only the usage is sent,
never the response's content."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

OPENAI_FLAVORS = {
    "chat.completion": "chat",
    "chat.completion.chunk": "chat",
    "response": "responses",
    "list": "embeddings",
}


def as_json(value: Any) -> Any:
    """An SDK object as the JSON the provider sent (pydantic's `model_dump(mode="json", by_alias=True)`: the
    wire names, e.g. Gemini's camelCase), a mapping or a plain object as dicts and lists."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, Mapping):
        return {str(k): as_json(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: as_json(v) for k, v in vars(value).items() if v is not None and not k.startswith("_")}
    return value


def is_stream(response: Any) -> bool:
    """Chunks (a list, a generator, the SDK's Stream), not one response: a response names its model or kind,
    and may be iterable itself (the SDK's pydantic models yield their fields)."""
    if isinstance(response, (dict, str, bytes)) or not isinstance(response, Iterable):
        return False
    if callable(getattr(response, "model_dump", None)):  # a pydantic model: one response
        return False
    return not any(getattr(response, name, None) is not None for name in ("model", "object", "type", "usage"))


def final(response: Any, usage_of: Any) -> tuple[dict[str, Any], list[dict[str, Any]], bool]:
    """The response (or the stream's last chunk holding usage, else its last chunk) as JSON, every chunk, and
    whether it was a stream."""
    if not is_stream(response):
        body = as_json(response)
        return (body if isinstance(body, dict) else {}), [], False
    chunks = [c for c in (as_json(chunk) for chunk in response) if isinstance(c, dict)]
    with_usage = [c for c in chunks if usage_of(c) is not None]
    return (with_usage or chunks or [{}])[-1], chunks, True


def fields(provider: str, model: Any, usage: Any, flavor: str | None, streamed: bool) -> dict[str, Any]:
    """The track() fields: the raw usage, or zero tokens when the response carried none."""
    found: dict[str, Any] = {"provider": provider, "model": model if isinstance(model, str) else None}
    if isinstance(usage, dict):
        found.update(raw_usage=usage, api_flavor=flavor)
    else:
        found.update(prompt_tokens=0, completion_tokens=0)
    if streamed:
        found["streamed"] = True
    return {name: value for name, value in found.items() if value is not None}


def openai_response_of(body: dict[str, Any]) -> dict[str, Any]:
    """A Responses API stream event (`response.completed`) holds its response; anything else is one."""
    inner = body.get("response")
    return inner if isinstance(body.get("type"), str) and isinstance(inner, dict) else body


def openai_usage(response: Any) -> dict[str, Any]:
    """A chat completion, a Responses API response, an embeddings answer, or a stream of them (chat chunks made
    with `stream_options={"include_usage": True}`: the last carries the usage; Responses events: the
    `response.completed` one). Without usage, the event has zero tokens."""
    body, _, streamed = final(response, lambda c: openai_response_of(c).get("usage"))
    body = openai_response_of(body)
    flavor = OPENAI_FLAVORS.get(str(body.get("object")))
    return fields("openai", body.get("model"), body.get("usage"), flavor, streamed)


def anthropic_usage(message: Any) -> dict[str, Any]:
    """A Message, or the events of a stream (the usage of the last event holding it: `message_delta`'s is
    the whole call's; the model is `message_start`'s)."""
    body, chunks, streamed = final(message, lambda c: c.get("usage") or (c.get("message") or {}).get("usage"))
    inner = body.get("message") if isinstance(body.get("message"), dict) else body
    models = [c["message"].get("model") for c in chunks if isinstance(c.get("message"), dict)]
    return fields("anthropic", inner.get("model") or next(iter(models), None), inner.get("usage"), None, streamed)


def gemini_usage(response: Any) -> dict[str, Any]:
    """A GenerateContentResponse, or the chunks of a stream (the last carries the whole call's usage)."""
    body, _, streamed = final(response, lambda c: c.get("usageMetadata"))
    return fields("google", body.get("modelVersion"), body.get("usageMetadata"), None, streamed)
