"""One OTLP span into a usage draft, read through the attribute table (attributes.py): a GenAI call becomes
a `UsageDraft`, any other span is `None` (ignored), a GenAI span whose attributes cannot be read raises
`UnreadableSpan` with the attribute at fault. Validation proper stays ingest's (the same typed reasons)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from modules.telemetry.attributes import (
    CALL_OPERATIONS,
    EXCEPTION_EVENT,
    FIRST_CHUNK_EVENTS,
    OPERATIONS,
    READ_BY_FIELD,
    RESOURCE_TAGS,
    TAG_PREFIX,
    TRACE_ID_LENGTH,
    provider_id,
)
from modules.usage import UsageDraft, UsageStatus

MAX_ERROR_MESSAGE = 4000
MAX_COUNT = 2**31 - 1  # as the token fields of trackUsage (GraphQL Int)
Attributes = Mapping[str, Any]


class UnreadableSpan(ValueError):
    """A GenAI span whose attribute `attribute` cannot be a usage event's field."""

    def __init__(self, attribute: str, reason: str) -> None:
        super().__init__(f"attribute {attribute}: {reason}")
        self.attribute = attribute


@dataclass(frozen=True)
class ReadSpan:
    """A GenAI call's draft, and the attribute each of its fields was read from (to name it in a reason)."""

    draft: UsageDraft
    sources: dict[str, str]


def plain(value: AnyValue) -> Any:
    """An AnyValue as Python: str, bool, int, float, bytes, list or dict."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [plain(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_of(value.kvlist_value.values)
    return getattr(value, kind) if kind else None


def attributes_of(pairs: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for pair in pairs:
        assert isinstance(pair, KeyValue)
        found[pair.key] = plain(pair.value)
    return found


def is_call(attributes: Attributes) -> bool:
    """A model call: a provider named and, if an operation is named, one that calls a model."""
    if not any(name in attributes for name in READ_BY_FIELD["provider"].names):
        return False
    operation = next((attributes[name] for name in OPERATIONS if name in attributes), None)
    return operation is None or str(operation).lower() in CALL_OPERATIONS


def first(attributes: Attributes, field: str, resource: Attributes) -> tuple[str, Any] | None:
    read = READ_BY_FIELD[field]
    for where in (attributes, resource) if read.resource_too else (attributes,):
        for name in read.names:
            if name in where and where[name] is not None and where[name] != "":
                return name, where[name]
    return None


def as_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UnreadableSpan(name, f"must be a whole number of tokens (got {type(value).__name__})")
    try:
        number = float(value)
    except ValueError:
        raise UnreadableSpan(name, f"must be a whole number of tokens (got {str(value)[:40]!r})") from None
    if not number.is_integer() or not 0 <= number <= MAX_COUNT:
        raise UnreadableSpan(name, f"must be a whole number of tokens from 0 to {MAX_COUNT} (got {number})")
    return int(number)


def as_text(name: str, value: Any) -> str:
    if isinstance(value, str | int | float | bool):
        return str(value)
    raise UnreadableSpan(name, f"must be a string (got {type(value).__name__})")


def as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise UnreadableSpan(name, f"must be a boolean (got {str(value)[:40]!r})")


def moment(nanos: int) -> datetime | None:
    return datetime.fromtimestamp(nanos / 1e9, UTC) if nanos else None


def request_id(span: Span) -> str:
    """The same span exported again has the same id: a duplicate, never a second event."""
    if len(span.trace_id) != TRACE_ID_LENGTH or len(span.span_id) != TRACE_ID_LENGTH // 2:
        raise UnreadableSpan("traceId/spanId", "a GenAI span needs a 16-byte trace id and an 8-byte span id")
    if not any(span.trace_id) or not any(span.span_id):
        raise UnreadableSpan("traceId/spanId", "a trace or span id of zeros is invalid (OTLP)")
    return f"otel:{span.trace_id.hex()}:{span.span_id.hex()}"


def span_label(span: Span) -> str:
    """trace id/span id in hex, as the sender's tools show them."""
    return f"{span.trace_id.hex() or '?'}/{span.span_id.hex() or '?'}"


def time_to_first_token_ms(span: Span, attributes: Attributes, resource: Attributes) -> int | None:
    found = first(attributes, "timeToFirstTokenMs", resource)
    if found is not None:
        name, seconds = found
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
            raise UnreadableSpan(name, f"must be a number of seconds (got {type(seconds).__name__})")
        return round(seconds * 1000)
    chunk_times = [event.time_unix_nano for event in span.events if event.name in FIRST_CHUNK_EVENTS]
    if chunk_times and span.start_time_unix_nano:
        return max(0, round((min(chunk_times) - span.start_time_unix_nano) / 1e6))
    return None


def error_of(span: Span, attributes: Attributes) -> tuple[UsageStatus, str | None, str | None]:
    """Status, error type and message: from error.type, the span status and its exception event."""
    exception = next((attributes_of(e.attributes) for e in span.events if e.name == EXCEPTION_EVENT), {})
    found = first(attributes, "errorType", {})
    error_type = as_text(found[0], found[1]) if found else None
    failed = span.status.code == Status.STATUS_CODE_ERROR or error_type is not None
    if not failed:
        return UsageStatus.SUCCESS, None, None
    error_type = error_type or (str(exception["exception.type"]) if exception.get("exception.type") else None)
    message = (span.status.message or str(exception.get("exception.message") or "")).replace("\x00", "\ufffd")
    return UsageStatus.ERROR, error_type or "error", message[:MAX_ERROR_MESSAGE] or None


def tags_of(attributes: Attributes, resource: Attributes) -> dict[str, str]:
    tags = {tag: as_text(name, resource[name]) for name, tag in RESOURCE_TAGS.items() if name in resource}
    for where in (resource, attributes):  # the span's own win
        for name, value in where.items():
            if name.startswith(TAG_PREFIX):
                tags[name[len(TAG_PREFIX) :]] = as_text(name, value)
    return tags


def read_span(span: Span, resource: Attributes, workspace_id: str) -> ReadSpan | None:
    """The usage draft of a GenAI call span; None for any other span."""
    attributes = attributes_of(span.attributes)
    if not is_call(attributes):
        return None
    sources: dict[str, str] = {}

    def text(field: str) -> str | None:
        found = first(attributes, field, resource)
        if found is None:
            return None
        sources[field] = found[0]
        return as_text(*found)

    def count(field: str) -> int | None:
        found = first(attributes, field, resource)
        if found is None:
            return None
        sources[field] = found[0]
        return as_count(*found)

    provider = text("provider") or ""
    prompt, cached, written = count("promptTokens"), count("cachedPromptTokens"), count("cacheWriteTokens")
    if prompt is not None and (cached or 0) + (written or 0) > prompt:
        prompt += (cached or 0) + (written or 0)  # input_tokens without the cached parts: Anthropic's own meaning
    audio = {kind: n for kind in ("input_audio_tokens", "output_audio_tokens") if (n := count(f"usageKinds.{kind}"))}
    streamed = first(attributes, "streamed", resource)
    started, ended = span.start_time_unix_nano, span.end_time_unix_nano
    status, error_type, error_message = error_of(span, attributes)
    draft = UsageDraft(
        workspace_id=workspace_id,
        provider=provider_id(provider),
        model=text("model"),
        prompt_tokens=prompt or 0,
        completion_tokens=count("completionTokens") or 0,
        total_tokens=count("totalTokens"),
        cached_prompt_tokens=cached,
        cache_write_tokens=written,
        reasoning_tokens=count("reasoningTokens"),
        usage_kinds=audio or None,
        request_id=request_id(span),
        occurred_at=moment(ended),
        duration_ms=round((ended - started) / 1e6) if started and ended >= started else None,
        time_to_first_token_ms=time_to_first_token_ms(span, attributes, resource),
        streamed=as_bool(*streamed) if streamed else None,
        status=status,
        error_type=error_type,
        error_message=error_message,
        user_id=text("userId"),
        session_id=text("sessionId"),
        task_type=text("taskType"),
        tags=tags_of(attributes, resource) or None,
    )
    return ReadSpan(draft, sources)
