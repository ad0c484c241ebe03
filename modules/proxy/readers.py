"""A reader per API watches a proxied call go by — the response body, or its stream event by event — for the
model that answered, the provider's own usage object (read later by genai-prices' extractors, through the
same ingest path as `trackUsage`'s `rawUsage`), the first content event (TTFT) and an error it reports.

Readers never change what they watch, but one: an OpenAI chat stream for which the proxy asked usage the
caller did not ask for (`stream_options.include_usage`) loses that usage again — the usage-only final chunk
and the `"usage": null` of every other chunk — so the caller receives what it would have without the proxy.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from modules.proxy.apis import Reader
from modules.proxy.sse import SseEvent
from modules.proxy.transcripts import Transcript

CONTENT_DELTAS = ("content", "tool_calls", "refusal", "function_call", "text", "reasoning_content")
FINAL_RESPONSE_EVENTS = ("response.completed", "response.incomplete", "response.failed")


@dataclass
class ReadCall:
    """What a call showed of itself."""

    model: str | None = None
    raw_usage: dict[str, Any] | None = None
    first_content_at: float | None = None  # the clock's reading at the first content event
    error_type: str | None = None
    error_message: str | None = None


class CallReader:
    """Reads nothing; the API readers below say what to look at."""

    rewrites = False  # whether on_event may change or drop events (then they are forwarded one by one)

    def __init__(self) -> None:
        self.read = ReadCall()
        self.transcript: Transcript | None = None  # the answer put back together, when its content is captured

    def on_body(self, body: object) -> None:
        """A whole JSON response (not streamed): it holds the usage where genai-prices looks for it."""
        if isinstance(body, dict):
            self.read.raw_usage = body
            self.read.model = model_of(body)

    def on_event(self, event: SseEvent, at: float) -> bytes | None:
        """The bytes to forward for `event` (None: none); watches it on the way."""
        if event.data and event.data != "[DONE]":
            try:
                data = json.loads(event.data)
            except ValueError:
                return event.raw
            if isinstance(data, dict):
                with contextlib.suppress(AttributeError, TypeError, ValueError):  # a shape we do not know
                    self.watch(data, event.event, at)
                if self.transcript is not None:
                    self.transcript.feed(data, event.event)
        return event.raw

    def watch(self, data: dict[str, Any], name: str | None, at: float) -> None:
        pass

    def content_at(self, at: float) -> None:
        if self.read.first_content_at is None:
            self.read.first_content_at = at

    def error(self, error: object) -> None:
        if isinstance(error, dict):
            self.read.error_type = str(error.get("type") or error.get("code") or error.get("status") or "error")
            message = error.get("message")
            self.read.error_message = str(message)[:4000] if message else None


class ChatReader(CallReader):
    """OpenAI chat (and legacy) completions: the usage comes in the last chunk, whose `choices` are empty."""

    def __init__(self, *, remove_usage: bool = False) -> None:
        super().__init__()
        self.rewrites = remove_usage

    def on_event(self, event: SseEvent, at: float) -> bytes | None:
        forwarded = super().on_event(event, at)
        if not self.rewrites or '"usage"' not in event.data:
            return forwarded
        try:
            chunk = json.loads(event.data)
        except ValueError:
            return forwarded
        if not isinstance(chunk, dict) or "usage" not in chunk:
            return forwarded
        if chunk.get("usage") is not None and not chunk.get("choices"):
            return None  # the usage-only chunk the caller did not ask for
        del chunk["usage"]
        shown = json.dumps(chunk, separators=(",", ":"), ensure_ascii=False)
        return event.raw.replace(event.data.encode(), shown.encode(), 1)

    def watch(self, data: dict[str, Any], name: str | None, at: float) -> None:
        if "error" in data:
            self.error(data["error"])
            return
        self.read.model = data.get("model") or self.read.model
        if isinstance(data.get("usage"), dict):
            self.read.raw_usage = data
        for choice in data.get("choices") or ():
            delta = choice.get("delta") or choice if isinstance(choice, dict) else {}
            if any(delta.get(key) for key in CONTENT_DELTAS):
                self.content_at(at)


class ResponsesReader(CallReader):
    """OpenAI Responses: `response.completed` (or incomplete, failed) holds the whole response and its usage."""

    def watch(self, data: dict[str, Any], name: str | None, at: float) -> None:
        kind = str(data.get("type") or name or "")
        response = data.get("response")
        if isinstance(response, dict):
            self.read.model = response.get("model") or self.read.model
        if kind.endswith(".delta"):
            self.content_at(at)
        elif kind in FINAL_RESPONSE_EVENTS and isinstance(response, dict):
            self.read.raw_usage = data
            if kind == "response.failed":
                self.error(response.get("error") or {"type": "response.failed"})
        elif kind == "error":
            self.error(data.get("error") if isinstance(data.get("error"), dict) else data)


class AnthropicReader(CallReader):
    """Anthropic messages: `message_start` gives the input and cache counts, `message_delta` the output ones
    (and, lately, the input ones again): merged, they are the message's usage."""

    def __init__(self) -> None:
        super().__init__()
        self.usage: dict[str, Any] = {}

    def watch(self, data: dict[str, Any], name: str | None, at: float) -> None:
        kind = data.get("type")
        if kind == "message_start" and isinstance(data.get("message"), dict):
            message = data["message"]
            self.read.model = message.get("model")
            self.merge(message.get("usage"))
        elif kind == "content_block_delta":
            self.content_at(at)
        elif kind == "message_delta":
            self.merge(data.get("usage"))
        elif kind == "error":
            self.error(data.get("error"))

    def merge(self, usage: object) -> None:
        if isinstance(usage, dict):
            self.usage.update({key: value for key, value in usage.items() if value is not None})
            self.read.raw_usage = {"model": self.read.model, "usage": dict(self.usage)}


class GeminiReader(CallReader):
    """Gemini: every chunk repeats the usage so far; the last one's is the call's (streamed without `alt=sse`,
    the chunks come as one JSON array)."""

    def on_body(self, body: object) -> None:
        if isinstance(body, list):
            counted = [chunk for chunk in body if isinstance(chunk, dict) and "usageMetadata" in chunk]
            body = counted[-1] if counted else None
        super().on_body(body)

    def watch(self, data: dict[str, Any], name: str | None, at: float) -> None:
        if "error" in data:
            self.error(data["error"])
            return
        self.read.model = data.get("modelVersion") or self.read.model
        if isinstance(data.get("usageMetadata"), dict):
            self.read.raw_usage = data
        for candidate in data.get("candidates") or ():
            parts = ((candidate.get("content") or {}).get("parts") or ()) if isinstance(candidate, dict) else ()
            if any(isinstance(part, dict) and (part.get("text") or part.get("functionCall")) for part in parts):
                self.content_at(at)


def model_of(body: dict[str, Any]) -> str | None:
    model = body.get("model") or body.get("modelVersion")
    return str(model) if model else None


def reader_for(reader: Reader, *, remove_usage: bool = False) -> CallReader:
    if reader is Reader.CHAT:
        return ChatReader(remove_usage=remove_usage)
    if reader is Reader.RESPONSES:
        return ResponsesReader()
    if reader is Reader.ANTHROPIC:
        return AnthropicReader()
    if reader is Reader.GEMINI:
        return GeminiReader()
    return CallReader()
