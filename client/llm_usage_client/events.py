"""The fields of TrackUsageInput in snake_case, each with its GraphQL name and its check, and the one function
that turns `track()`'s keyword arguments into the event to queue, or says why it would never be stored."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from llm_usage_client.validation import (
    amount,
    flag,
    identifier,
    integer,
    json_content,
    json_object,
    kinds,
    moment,
    status,
    tags,
    text,
)

FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "workspace_id": ("workspaceId", identifier),
    "request_id": ("requestId", text),
    "occurred_at": ("occurredAt", moment),
    "provider": ("provider", text),
    "model": ("model", text),
    "provider_instance_id": ("providerInstanceId", identifier),
    "task_type": ("taskType", text),
    "user_id": ("userId", text),
    "session_id": ("sessionId", text),
    "prompt_tokens": ("promptTokens", integer),
    "completion_tokens": ("completionTokens", integer),
    "total_tokens": ("totalTokens", integer),
    "cached_prompt_tokens": ("cachedPromptTokens", integer),
    "cache_write_tokens": ("cacheWriteTokens", integer),
    "reasoning_tokens": ("reasoningTokens", integer),
    "cost_usd": ("costUsd", amount),
    "duration_ms": ("durationMs", integer),
    "time_to_first_token_ms": ("timeToFirstTokenMs", integer),
    "status": ("status", status),
    "error_type": ("errorType", text),
    "error_message": ("errorMessage", text),
    "retry_count": ("retryCount", integer),
    "streamed": ("streamed", flag),
    "tags": ("tags", tags),
    "raw_usage": ("rawUsage", json_object),
    "api_flavor": ("apiFlavor", text),
    "usage_kinds": ("usageKinds", kinds),
    "input": ("input", json_content),  # what the call sent (kept only if the workspace keeps content)
    "output": ("output", json_content),  # what it answered
}
ALWAYS_REQUIRED = ("workspace_id", "provider")  # non-null in the schema
COUNTED = ("model", "prompt_tokens", "completion_tokens")  # required unless the raw usage (or usage kinds) says


def required(given: Mapping[str, Any]) -> tuple[str, ...]:
    """The server reads model and counts off raw_usage; usage_kinds gives the counts, not the model."""
    if "raw_usage" in given:
        return ALWAYS_REQUIRED
    if "usage_kinds" in given:
        return (*ALWAYS_REQUIRED, "model")
    return (*ALWAYS_REQUIRED, *COUNTED)


class Refused(ValueError):
    """Why track() will not queue an event: every problem found, `field` the first one's (snake_case; None
    when the event as a whole is wrong)."""

    def __init__(self, problems: list[tuple[str | None, str]]) -> None:
        super().__init__("; ".join(reason for _, reason in problems))
        self.field = problems[0][0]


def build_event(fields: Mapping[str, Any], workspace_id: str | None) -> dict[str, Any]:
    """The TrackUsageInput to send, with its idempotency key and time fixed now (a retry is then recognised);
    None values count as not given. Raises Refused."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise Refused([(None, f"unknown usage field(s): {', '.join(unknown)}")])
    given = {name: value for name, value in fields.items() if value is not None}
    if workspace_id is not None:
        given.setdefault("workspace_id", workspace_id)
    problems: list[tuple[str | None, str]] = []
    missing = [name for name in required(given) if name not in given]
    if missing:
        problems.append((missing[0], f"missing required field(s): {', '.join(missing)}"))
    event: dict[str, Any] = {}
    for name, value in given.items():
        graphql_name, check = FIELDS[name]
        try:
            event[graphql_name] = check(value)
        except ValueError as error:
            problems.append((name, f"{name}: {error}"))
    if problems:
        raise Refused(problems)
    event.setdefault("requestId", str(uuid.uuid4()))
    event.setdefault("occurredAt", datetime.now(UTC).isoformat())
    return event


KEYWORDS = {graphql_name: name for name, (graphql_name, _) in FIELDS.items()}  # promptTokens → prompt_tokens


def describe(event: Mapping[str, Any]) -> str:
    """How a report names a queued event: by its requestId."""
    return f"event {event.get('requestId')!r}"
