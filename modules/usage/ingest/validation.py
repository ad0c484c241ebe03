"""The rules a tracked call must meet. Pure functions: they list problems, they never touch the database.

Token accounting (OpenAI / OpenTelemetry semantics, as genai-prices' `input_tokens` and `output_tokens`):
`promptTokens` counts every input token, cached ones included; `cachedPromptTokens` (read from cache) and
`cacheWriteTokens` are parts of it. `reasoningTokens` are part of `completionTokens`. The counts may come
from the provider's own usage instead (usage_reading.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from modules.core.errors import Problem
from modules.providers import (
    AUDIO_KINDS,
    MAX_MODEL_LENGTH,
    MAX_PROVIDER_LENGTH,
    TokenCounts,
    normalize_provider,
    quantize,
)
from modules.usage.conversations.records import CallContent
from modules.usage.conversations.shapes import ContentShapeError, read_content
from modules.usage.ingest.usage_reading import read_call_usage
from modules.usage.records import UsageDraft, UsageStatus
from modules.users import MAX_USER_ID_LENGTH

MAX_BATCH_SIZE = 1000
MAX_FUTURE_SKEW = timedelta(minutes=5)
DEFAULT_MAX_EVENT_AGE_DAYS = 35  # how far back occurredAt may be: the one default (LLM_USAGE_MAX_EVENT_AGE_DAYS)
MAX_DURATION_MS = 24 * 60 * 60 * 1000
MAX_RETRY_COUNT = 1000
MAX_COST_USD = Decimal(1_000_000_000)
MAX_TAGS = 32
MAX_TAG_KEY_LENGTH = 64
MAX_TAG_VALUE_LENGTH = 256
TEXT_LIMITS = {
    "requestId": 200,
    "provider": MAX_PROVIDER_LENGTH,
    "model": MAX_MODEL_LENGTH,
    "taskType": 100,
    "userId": MAX_USER_ID_LENGTH,
    "sessionId": 256,
    "errorType": 200,
    "errorMessage": 4000,
}


@dataclass(frozen=True)
class CheckedInput:
    """The parts of an input that validation normalises; the rest is read from the input as given."""

    provider: str
    model: str
    tokens: TokenCounts
    total_tokens: int
    audio_tokens: int
    status: UsageStatus
    cost_usd: Decimal | None
    tags: dict[str, str]
    content: CallContent | None = None  # what the call said, read from its input and output (kept if opted in)


def check_text(problems: list[Problem], field: str, value: str | None, index: int | None, *, required: bool) -> None:
    if value is None:
        return
    limit = TEXT_LIMITS[field]
    if "\x00" in value:
        problems.append(Problem(field, "must not contain NUL characters", index))
    elif required and not value.strip():
        problems.append(Problem(field, "must not be empty", index))
    elif len(value) > limit:
        problems.append(Problem(field, f"must be at most {limit} characters (got {len(value)})", index))


def check_tags(problems: list[Problem], tags: object, index: int | None) -> dict[str, str]:
    """Tags are a flat JSON object of strings: at most 32 pairs, keys ≤ 64 and values ≤ 256 characters."""
    if tags is None:
        return {}
    if not isinstance(tags, dict):
        problems.append(Problem("tags", "must be a JSON object of string keys and string values", index))
        return {}
    if len(tags) > MAX_TAGS:
        problems.append(Problem("tags", f"must have at most {MAX_TAGS} pairs (got {len(tags)})", index))
        return {}
    for key, value in tags.items():
        if not isinstance(value, str):
            problems.append(Problem("tags", f"value of {key[:40]!r} must be a string (tags are flat)", index))
        elif not key or len(key) > MAX_TAG_KEY_LENGTH or "\x00" in key:
            problems.append(Problem("tags", f"keys must be 1 to {MAX_TAG_KEY_LENGTH} characters", index))
        elif len(value) > MAX_TAG_VALUE_LENGTH or "\x00" in value:
            problems.append(Problem("tags", f"values must be at most {MAX_TAG_VALUE_LENGTH} characters", index))
    return dict(tags)


def check_counts(problems: list[Problem], item: UsageDraft, index: int | None) -> None:
    counts = {
        "promptTokens": item.prompt_tokens,
        "completionTokens": item.completion_tokens,
        "totalTokens": item.total_tokens,
        "cachedPromptTokens": item.cached_prompt_tokens,
        "cacheWriteTokens": item.cache_write_tokens,
        "reasoningTokens": item.reasoning_tokens,
        "durationMs": item.duration_ms,
        "timeToFirstTokenMs": item.time_to_first_token_ms,
        "retryCount": item.retry_count,
    }
    for field, value in counts.items():
        if value is not None and value < 0:
            problems.append(Problem(field, f"must not be negative (got {value})", index))
    for field in ("durationMs", "timeToFirstTokenMs"):
        value = counts[field]
        if value is not None and value > MAX_DURATION_MS:
            problems.append(Problem(field, f"must be at most {MAX_DURATION_MS} (24 hours)", index))
    if item.retry_count is not None and item.retry_count > MAX_RETRY_COUNT:
        problems.append(Problem("retryCount", f"must be at most {MAX_RETRY_COUNT}", index))


def check_input(
    item: UsageDraft, index: int | None, now: datetime, max_age: timedelta = timedelta(days=DEFAULT_MAX_EVENT_AGE_DAYS)
) -> tuple[list[Problem], CheckedInput]:
    """The problems of one input (empty when valid) and its normalised parts."""
    problems: list[Problem] = []
    check_text(problems, "provider", item.provider, index, required=True)
    usage = read_call_usage(problems, item, index)
    check_text(problems, "model", usage.model, index, required=True)
    check_text(problems, "requestId", item.request_id, index, required=True)
    for field, value in (
        ("taskType", item.task_type),
        ("userId", item.user_id),
        ("sessionId", item.session_id),
        ("errorType", item.error_type),
        ("errorMessage", item.error_message),
    ):
        check_text(problems, field, value, index, required=field not in ("errorMessage",))
    check_counts(problems, item, index)

    tokens = usage.tokens
    if tokens.cached_prompt + tokens.cache_write > tokens.prompt:
        problems.append(
            Problem(
                "cachedPromptTokens" if item.raw_usage is None else "rawUsage",
                f"cachedPromptTokens + cacheWriteTokens ({tokens.cached_prompt + tokens.cache_write}) exceed "
                f"promptTokens ({tokens.prompt}): promptTokens counts all input tokens, cached ones included",
                index,
            )
        )
    if tokens.reasoning > tokens.completion:
        problems.append(
            Problem(
                "reasoningTokens" if item.raw_usage is None else "rawUsage",
                f"({tokens.reasoning}) exceed completionTokens ({tokens.completion}), which include them",
                index,
            )
        )
    total = tokens.prompt + tokens.completion
    if item.total_tokens is not None and item.total_tokens >= 0 and total >= 0 and item.total_tokens < total:
        problems.append(
            Problem(
                "totalTokens",
                f"({item.total_tokens}) is less than promptTokens + completionTokens ({total})",
                index,
            )
        )
    if (
        item.duration_ms is not None
        and item.time_to_first_token_ms is not None
        and item.time_to_first_token_ms > item.duration_ms
    ):
        problems.append(Problem("timeToFirstTokenMs", "must not exceed durationMs", index))

    if item.occurred_at is not None:
        if item.occurred_at.tzinfo is None:
            problems.append(Problem("occurredAt", "must include a UTC offset, e.g. 2026-01-01T12:00:00Z", index))
        elif item.occurred_at > now + MAX_FUTURE_SKEW:
            problems.append(Problem("occurredAt", "is more than 5 minutes in the future", index))
        elif item.occurred_at < now - max_age:
            problems.append(
                Problem(
                    "occurredAt",
                    f"is more than {max_age.days} days ago (LLM_USAGE_MAX_EVENT_AGE_DAYS, LLM_USAGE_RETENTION_DAYS)",
                    index,
                )
            )

    cost = item.cost_usd
    if cost is not None:
        if not Decimal(0) <= cost <= MAX_COST_USD:
            problems.append(Problem("costUsd", f"must be between 0 and {MAX_COST_USD}", index))
        else:
            cost = quantize(cost)

    status = item.status or (UsageStatus.ERROR if item.error_type else UsageStatus.SUCCESS)
    tags = check_tags(problems, item.tags, index)
    extra = dict(tokens.extra)
    provider = normalize_provider(item.provider)
    checked = CheckedInput(
        provider=provider,
        model=(usage.model or "").strip(),
        tokens=tokens,
        total_tokens=item.total_tokens if item.total_tokens is not None else total,
        audio_tokens=sum(int(extra.get(key, 0)) for key in AUDIO_KINDS),
        status=status,
        cost_usd=cost,
        tags=tags,
        content=read_call_content(problems, item, provider, index),
    )
    return problems, checked


def read_call_content(
    problems: list[Problem], item: UsageDraft, provider: str, index: int | None
) -> CallContent | None:
    """The call's messages from its `input` and `output` in the provider's own shapes; a shape that cannot be
    read is a problem of that field (the call is refused whole, as for any other field)."""
    if item.content_input is None and item.content_output is None:
        return None
    try:
        return read_content(provider, item.api_flavor, item.content_input, item.content_output)
    except ContentShapeError as wrong:
        problems.append(Problem(wrong.field, wrong.reason, index))
        return None
