"""What both trackers share: building events, counting, and reading the server's answer to a batch."""

from __future__ import annotations

import logging
import random
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from llm_usage_client.extract import anthropic_usage, gemini_usage, openai_usage

log = logging.getLogger("llm_usage_client")

TRACK_BATCH = (
    "mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs) { insertedCount duplicateCount } }"
)
FIELDS = {
    "workspace_id": "workspaceId",
    "request_id": "requestId",
    "occurred_at": "occurredAt",
    "provider": "provider",
    "model": "model",
    "provider_instance_id": "providerInstanceId",
    "task_type": "taskType",
    "user_id": "userId",
    "session_id": "sessionId",
    "prompt_tokens": "promptTokens",
    "completion_tokens": "completionTokens",
    "total_tokens": "totalTokens",
    "cached_prompt_tokens": "cachedPromptTokens",
    "cache_write_tokens": "cacheWriteTokens",
    "reasoning_tokens": "reasoningTokens",
    "cost_usd": "costUsd",
    "duration_ms": "durationMs",
    "time_to_first_token_ms": "timeToFirstTokenMs",
    "status": "status",
    "error_type": "errorType",
    "error_message": "errorMessage",
    "retry_count": "retryCount",
    "streamed": "streamed",
    "tags": "tags",
}
RETRYABLE_CODES = {"RATE_LIMITED", "UNAVAILABLE", "INTERNAL"}


@dataclass
class TrackerStats:
    queued: int = 0
    inserted: int = 0
    duplicates: int = 0
    dropped_queue_full: int = 0
    rejected: int = 0
    failed: int = 0
    retries: int = 0


@dataclass(frozen=True)
class Rejected:
    """Events the server will not take, and why (passed to `on_error`)."""

    events: list[dict[str, Any]]
    reason: str
    permanent: bool = True


@dataclass
class Settings:
    url: str
    api_key: str
    workspace_id: str | None = None
    batch_size: int = 500
    flush_interval: float = 1.0
    max_queue: int = 100_000
    max_retry_seconds: float = 120.0
    timeout: float = 10.0
    on_error: Callable[[Rejected], None] | None = None
    stats: TrackerStats = field(default_factory=TrackerStats)

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 1000:
            raise ValueError("batch_size must be between 1 and 1000 (the server's batch limit)")
        self.graphql_url = self.url.rstrip("/") + ("" if self.url.rstrip("/").endswith("/graphql") else "/graphql")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def report(self, rejected: Rejected) -> None:
        if rejected.permanent:
            self.stats.rejected += len(rejected.events)
        else:
            self.stats.failed += len(rejected.events)
        log.warning("llm-usage: %d event(s) not stored: %s", len(rejected.events), rejected.reason)
        if self.on_error is not None:
            try:
                self.on_error(rejected)
            except Exception:
                log.exception("llm-usage: on_error callback failed")


def settle(
    settings: Settings, batch: list[dict[str, Any]], answer: Answer, *, out_of_time: bool
) -> tuple[list[dict[str, Any]], bool]:
    """What is left to send after an answer, and whether to wait before sending it: stored → nothing;
    some rejected → the rest, at once; permanent → nothing (reported); retryable → the same batch after a
    backoff, unless out of time (reported as failed)."""
    if answer.rejected_indexes:
        keep, bad = split(batch, answer.rejected_indexes)
        settings.report(Rejected(events=bad, reason=answer.reason))
        return keep, False
    if answer.permanent:
        settings.report(Rejected(events=batch, reason=answer.reason))
        return [], False
    if not answer.retry:
        settings.stats.inserted += answer.inserted
        settings.stats.duplicates += answer.duplicates
        return [], False
    if out_of_time:
        settings.report(Rejected(events=batch, reason=f"gave up: {answer.reason}", permanent=False))
        return [], False
    settings.stats.retries += 1
    return batch, True


def build_event(settings: Settings, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A TrackUsageInput from keyword arguments, with its idempotency key and time fixed now."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown usage field(s): {', '.join(sorted(unknown))}")
    event = {FIELDS[name]: value for name, value in fields.items() if value is not None}
    event.setdefault("workspaceId", settings.workspace_id)
    event.setdefault("requestId", str(uuid.uuid4()))
    occurred = event.get("occurredAt") or datetime.now(UTC)
    event["occurredAt"] = occurred.isoformat() if isinstance(occurred, datetime) else occurred
    if "costUsd" in event:
        event["costUsd"] = str(event["costUsd"])
    return event


@dataclass(frozen=True)
class Answer:
    """How the server answered a batch: stored, some rejected (by index), or try again later."""

    inserted: int = 0
    duplicates: int = 0
    rejected_indexes: frozenset[int] = frozenset()
    reason: str = ""
    retry: bool = False
    permanent: bool = False


def read_answer(response: httpx.Response | None, error: Exception | None) -> Answer:
    if response is None:
        return Answer(retry=True, reason=f"network error: {error!r}")
    if response.status_code >= 500 or response.status_code == 429:
        return Answer(retry=True, reason=f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return Answer(permanent=True, reason=f"HTTP {response.status_code}, not JSON")
    errors = body.get("errors") or []
    if not errors and body.get("data"):
        stored = body["data"]["trackUsageBatch"]
        return Answer(inserted=stored["insertedCount"], duplicates=stored["duplicateCount"])
    first = errors[0] if errors else {"message": f"HTTP {response.status_code}", "extensions": {}}
    extensions = first.get("extensions") or {}
    code = extensions.get("code")
    if code in RETRYABLE_CODES:
        return Answer(retry=True, reason=f"{code}: {first['message']}")
    indexes = frozenset(p["index"] for p in extensions.get("problems", []) if "index" in p)
    if code == "BAD_USER_INPUT" and indexes:
        return Answer(rejected_indexes=indexes, reason=first["message"])
    return Answer(permanent=True, reason=f"{code}: {first['message']}")


def backoff(attempt: int) -> float:
    """Exponential, capped at 30 s, with full jitter."""
    return random.uniform(0, min(30.0, 0.25 * 2**attempt))


def split(batch: list[dict[str, Any]], indexes: frozenset[int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    keep = [e for i, e in enumerate(batch) if i not in indexes]
    bad = [e for i, e in enumerate(batch) if i in indexes]
    return keep, bad


class TrackerBase:
    """What both trackers share: settings and stats, turning keyword arguments into a queued event, and the
    provider helpers."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        workspace_id: str | None = None,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        max_queue: int = 100_000,
        max_retry_seconds: float = 120.0,
        on_error: Callable[[Rejected], None] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.settings = Settings(
            url=url,
            api_key=api_key,
            workspace_id=workspace_id,
            batch_size=batch_size,
            flush_interval=flush_interval,
            max_queue=max_queue,
            max_retry_seconds=max_retry_seconds,
            on_error=on_error,
            timeout=timeout,
        )
        self.queue: deque[dict[str, Any]] = deque()
        self.flushing = 0
        self.closing = False

    @property
    def stats(self) -> TrackerStats:
        return self.settings.stats

    def track(self, **fields: Any) -> bool:
        raise NotImplementedError

    def _event(self, fields: dict[str, Any]) -> dict[str, Any] | None:
        """The event to queue, or None when it must not be (reported or counted, never raised)."""
        try:
            event = build_event(self.settings, fields)
        except TypeError as error:
            self.settings.report(Rejected(events=[dict(fields)], reason=str(error)))
            return None
        if self.closing or len(self.queue) >= self.settings.max_queue:
            self.settings.stats.dropped_queue_full += 1
            return None
        return event

    def track_openai(self, response: Any, **fields: Any) -> bool:
        """Track an OpenAI chat completion or response (or the chunks of a stream with usage)."""
        return self.track(**{**openai_usage(response), **fields})

    def track_anthropic(self, message: Any, **fields: Any) -> bool:
        return self.track(**{**anthropic_usage(message), **fields})

    def track_gemini(self, response: Any, **fields: Any) -> bool:
        return self.track(**{**gemini_usage(response), **fields})
