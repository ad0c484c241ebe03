"""The rules of a tracked call (validation.py, usage_reading.py) by exact value, without a database: each problem
in its own words, at its field and batch index, on both sides of every limit; and the normalised parts of an
input that passes. The clock is the test's: `NOW` is passed in, never read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from modules.core.errors import Problem
from modules.providers import TokenCounts
from modules.usage.ingest.validation import CheckedInput, check_input
from modules.usage.records import UsageDraft, UsageStatus

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
BASE = UsageDraft(
    workspace_id="acme", provider=" OpenAI ", model=" gpt-4o ", prompt_tokens=100, completion_tokens=20, request_id="r1"
)


def problems_of(index: int | None = 3, **changes: Any) -> list[tuple[str, str, int | None]]:
    found, _ = check_input(replace(BASE, **changes), index, NOW)
    return [(p.field, p.reason, p.index) for p in found]


def test_a_valid_call_is_normalised():
    problems, checked = check_input(
        replace(
            BASE, cached_prompt_tokens=30, cache_write_tokens=10, reasoning_tokens=5, cost_usd=Decimal("0.12345678901")
        ),
        None,
        NOW,
    )
    assert problems == []
    assert checked == CheckedInput(
        provider="openai",
        model="gpt-4o",
        tokens=TokenCounts(prompt=100, completion=20, cached_prompt=30, cache_write=10, reasoning=5),
        total_tokens=120,
        audio_tokens=0,
        status=UsageStatus.SUCCESS,
        cost_usd=Decimal("0.1234567890"),
        tags={},
    )


def test_status_defaults_to_error_when_an_error_type_is_given_and_audio_is_summed():
    kinds = {"input_tokens": 100, "output_tokens": 20, "input_audio_tokens": 7, "output_audio_tokens": 3}
    _, checked = check_input(
        replace(BASE, prompt_tokens=None, completion_tokens=None, usage_kinds=kinds, error_type="Timeout"), 0, NOW
    )
    assert (checked.status, checked.audio_tokens, checked.total_tokens) == (UsageStatus.ERROR, 10, 120)
    _, given = check_input(replace(BASE, status=UsageStatus.SUCCESS, error_type="Timeout", total_tokens=500), 0, NOW)
    assert (given.status, given.total_tokens) == (UsageStatus.SUCCESS, 500)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"provider": " "}, [("provider", "must not be empty", 3)]),
        ({"provider": "a\x00b"}, [("provider", "must not contain NUL characters", 3)]),
        ({"request_id": "r" * 201}, [("requestId", "must be at most 200 characters (got 201)", 3)]),
        ({"request_id": "r" * 200}, []),
        ({"task_type": ""}, [("taskType", "must not be empty", 3)]),
        ({"error_message": ""}, []),  # the one optional text that may be empty
        ({"error_message": "e" * 4001}, [("errorMessage", "must be at most 4000 characters (got 4001)", 3)]),
        ({"session_id": "s" * 257}, [("sessionId", "must be at most 256 characters (got 257)", 3)]),
        ({"model": None}, [("model", "is required", 3)]),
        ({"prompt_tokens": None}, [("promptTokens", "is required (or give rawUsage or usageKinds)", 3)]),
        ({"completion_tokens": -1}, [("completionTokens", "must not be negative (got -1)", 3)]),
        ({"total_tokens": -1}, [("totalTokens", "must not be negative (got -1)", 3)]),
        ({"cached_prompt_tokens": -1}, [("cachedPromptTokens", "must not be negative (got -1)", 3)]),
        ({"cache_write_tokens": -2}, [("cacheWriteTokens", "must not be negative (got -2)", 3)]),
        ({"reasoning_tokens": -3}, [("reasoningTokens", "must not be negative (got -3)", 3)]),
        ({"model": "  "}, [("model", "must not be empty", 3)]),
        ({"request_id": " "}, [("requestId", "must not be empty", 3)]),
        ({"tags": {"k" * 50: 1}}, [("tags", f"value of {'k' * 40!r} must be a string (tags are flat)", 3)]),
        (
            {
                "usage_kinds": {"output_tokens": 5},
                "prompt_tokens": None,
                "completion_tokens": None,
                "cached_prompt_tokens": 0,
            },
            [],  # a zero count is no count: it needs no input_tokens to belong to
        ),
        ({"retry_count": 1001}, [("retryCount", "must be at most 1000", 3)]),
        ({"retry_count": 1000}, []),
        ({"duration_ms": 86_400_001}, [("durationMs", "must be at most 86400000 (24 hours)", 3)]),
        ({"duration_ms": 86_400_000}, []),
        (
            {"duration_ms": 10, "time_to_first_token_ms": 11},
            [("timeToFirstTokenMs", "must not exceed durationMs", 3)],
        ),
        ({"duration_ms": 10, "time_to_first_token_ms": 10}, []),
        (
            {"cached_prompt_tokens": 60, "cache_write_tokens": 41},
            [
                (
                    "cachedPromptTokens",
                    "cachedPromptTokens + cacheWriteTokens (101) exceed promptTokens (100): promptTokens counts all "
                    "input tokens, cached ones included",
                    3,
                )
            ],
        ),
        ({"cached_prompt_tokens": 60, "cache_write_tokens": 40}, []),
        (
            {"reasoning_tokens": 21},
            [("reasoningTokens", "(21) exceed completionTokens (20), which include them", 3)],
        ),
        ({"reasoning_tokens": 20}, []),
        (
            {"total_tokens": 119},
            [("totalTokens", "(119) is less than promptTokens + completionTokens (120)", 3)],
        ),
        ({"total_tokens": 120}, []),
        (
            {"occurred_at": datetime(2026, 6, 1, 12)},
            [("occurredAt", "must include a UTC offset, e.g. 2026-01-01T12:00:00Z", 3)],
        ),
        (
            {"occurred_at": NOW + timedelta(minutes=5, microseconds=1)},
            [("occurredAt", "is more than 5 minutes in the future", 3)],
        ),
        ({"occurred_at": NOW + timedelta(minutes=5)}, []),
        (
            {"occurred_at": NOW - timedelta(days=35, microseconds=1)},
            [
                (
                    "occurredAt",
                    "is more than 35 days ago (LLM_USAGE_MAX_EVENT_AGE_DAYS, LLM_USAGE_RETENTION_DAYS)",
                    3,
                )
            ],
        ),
        ({"occurred_at": NOW - timedelta(days=35)}, []),
        ({"cost_usd": Decimal("-0.01")}, [("costUsd", "must be between 0 and 1000000000", 3)]),
        ({"cost_usd": Decimal("1000000000.01")}, [("costUsd", "must be between 0 and 1000000000", 3)]),
        ({"cost_usd": Decimal(1_000_000_000)}, []),
        ({"cost_usd": Decimal(0)}, []),
        ({"tags": ["a"]}, [("tags", "must be a JSON object of string keys and string values", 3)]),
        ({"tags": {f"k{n}": "v" for n in range(33)}}, [("tags", "must have at most 32 pairs (got 33)", 3)]),
        ({"tags": {f"k{n}": "v" for n in range(32)}}, []),
        ({"tags": {"team": 1}}, [("tags", "value of 'team' must be a string (tags are flat)", 3)]),
        ({"tags": {"": "v"}}, [("tags", "keys must be 1 to 64 characters", 3)]),
        ({"tags": {"k" * 65: "v"}}, [("tags", "keys must be 1 to 64 characters", 3)]),
        ({"tags": {"k\x00": "v"}}, [("tags", "keys must be 1 to 64 characters", 3)]),
        ({"tags": {"k" * 64: "v" * 256}}, []),
        ({"tags": {"k": "v" * 257}}, [("tags", "values must be at most 256 characters", 3)]),
        ({"tags": {"k": "v\x00"}}, [("tags", "values must be at most 256 characters", 3)]),
    ],
)
def test_each_problem_in_its_own_words_on_both_sides_of_its_limit(changes, expected):
    assert problems_of(**changes) == expected


def test_the_age_limit_is_the_one_given():
    found, _ = check_input(replace(BASE, occurred_at=NOW - timedelta(days=8)), None, NOW, max_age=timedelta(days=7))
    assert found == [
        Problem("occurredAt", "is more than 7 days ago (LLM_USAGE_MAX_EVENT_AGE_DAYS, LLM_USAGE_RETENTION_DAYS)")
    ]


def test_tags_and_an_unquantized_cost_are_kept_as_given():
    _, checked = check_input(replace(BASE, tags={"team": "search", "env": "prod"}, cost_usd=Decimal("-1")), None, NOW)
    assert (checked.tags, checked.cost_usd) == ({"team": "search", "env": "prod"}, Decimal("-1"))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"usage_kinds": "lots", "prompt_tokens": None, "completion_tokens": None},
            [("usageKinds", "must be a JSON object of genai-prices usage kinds and counts", 3)],
        ),
        (
            {"usage_kinds": {"input_tokens": 100, "output_tokens": 20}, "prompt_tokens": 99},
            [("promptTokens", "(99) disagrees with usageKinds.input_tokens (100)", 3)],
        ),
        (
            {"usage_kinds": {"input_tokens": 5, "output_tokens": 20}, "prompt_tokens": 0},
            [("promptTokens", "(0) disagrees with usageKinds.input_tokens (5)", 3)],
        ),
        (
            {"prompt_tokens": -1, "completion_tokens": None},  # a negative count does not stop the others' checks
            [
                ("completionTokens", "is required (or give rawUsage or usageKinds)", 3),
                ("promptTokens", "must not be negative (got -1)", 3),
            ],
        ),
        (
            {
                "usage_kinds": {"input_tokens": 10, "cache_read_tokens": 11},
                "prompt_tokens": None,
                "completion_tokens": None,
            },
            [
                ("usageKinds", "cache_read_tokens (11) cannot exceed input_tokens (10)", 3),
                (
                    "cachedPromptTokens",
                    "cachedPromptTokens + cacheWriteTokens (11) exceed promptTokens (10): promptTokens counts all "
                    "input tokens, cached ones included",
                    3,
                ),
            ],
        ),
        (
            {"raw_usage": {"prompt_tokens": 100, "completion_tokens": 20}, "api_flavor": ""},
            [("apiFlavor", "must be 1 to 50 characters", 3)],
        ),
        (
            {"raw_usage": {"prompt_tokens": 100, "completion_tokens": 20}, "api_flavor": "c" * 51},
            [("apiFlavor", "must be 1 to 50 characters", 3)],
        ),
        (
            {"raw_usage": {"prompt_tokens": 100, "completion_tokens": 20}, "completion_tokens": 21},
            [("completionTokens", "(21) disagrees with rawUsage, which reports 20", 3)],
        ),
        (
            {"raw_usage": {"prompt_tokens": 100, "completion_tokens": 20}, "completion_tokens": 0},
            [("completionTokens", "(0) disagrees with rawUsage, which reports 20", 3)],
        ),
        (
            {"raw_usage": {"prompt_tokens": 100, "completion_tokens": 20}, "api_flavor": "c" * 50},  # 50: read
            [
                (
                    "apiFlavor",
                    f"must be one of chat, responses, realtime, images, embeddings, live for openai (got {'c' * 50!r})",
                    3,
                )
            ],
        ),
        (
            {"raw_usage": {"prompt_tokens": 100, "completion_tokens": 20}, "api_flavor": "x"},  # 1 character: read
            [
                (
                    "apiFlavor",
                    "must be one of chat, responses, realtime, images, embeddings, live for openai (got 'x')",
                    3,
                )
            ],
        ),
        (
            {"raw_usage": {"prompt_tokens": 100, "completion_tokens": 20}, "model": None},
            [("model", "is required: rawUsage names no model", 3)],
        ),
        (
            {
                "raw_usage": {"prompt_tokens": 100, "completion_tokens": 20},
                "usage_kinds": {"input_tokens": 101, "input_audio_tokens": 4},
            },
            [("usageKinds", "input_tokens (101) disagrees with rawUsage, which reports 100", 3)],
        ),
        (
            {"raw_usage": {"prompt_tokens": 2**31, "completion_tokens": 20}},
            [("rawUsage", "input_tokens must be a finite number, at least 0 and at most 2147483647", 3)],
        ),
    ],
)
def test_each_usage_problem_in_its_own_words(changes, expected):
    assert problems_of(**changes) == expected


def test_the_raw_usage_gives_the_counts_and_the_model_and_usage_kinds_add_to_it():
    raw = {"model": "gpt-4o-2024-08-06", "usage": {"prompt_tokens": 100, "completion_tokens": 20}}
    kinds = {"input_audio_tokens": 4, "output_audio_tokens": 0}  # a zero count is not kept
    found, checked = check_input(replace(BASE, model=None, raw_usage=raw, usage_kinds=kinds, prompt_tokens=100), 0, NOW)
    assert found == []
    assert (checked.model, checked.tokens, checked.audio_tokens) == (
        "gpt-4o-2024-08-06",
        TokenCounts(prompt=100, completion=20, extra=(("input_audio_tokens", 4),)),
        4,
    )
    _, named = check_input(
        replace(BASE, model="mine", raw_usage=raw, prompt_tokens=None, completion_tokens=None), 0, NOW
    )
    assert named.model == "mine"  # the caller's model wins over the response's


def test_a_count_of_one_is_counted():
    _, checked = check_input(replace(BASE, prompt_tokens=1, completion_tokens=1, reasoning_tokens=1), None, NOW)
    assert (checked.tokens, checked.total_tokens) == (TokenCounts(prompt=1, completion=1, reasoning=1), 2)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"total_tokens": 0}, [("totalTokens", "(0) is less than promptTokens + completionTokens (120)", 3)]),
        (  # the raw usage's own parts exceed their whole: the field named is the one the caller sent
            {
                "raw_usage": {
                    "prompt_tokens": 100,
                    "completion_tokens": 20,
                    "prompt_tokens_details": {"cached_tokens": 101},
                }
            },
            [
                ("rawUsage", "cache_read_tokens (101) cannot exceed input_tokens (100)", 3),
                (
                    "rawUsage",
                    "cachedPromptTokens + cacheWriteTokens (101) exceed promptTokens (100): promptTokens counts all "
                    "input tokens, cached ones included",
                    3,
                ),
            ],
        ),
        (
            {
                "raw_usage": {
                    "prompt_tokens": 100,
                    "completion_tokens": 20,
                    "completion_tokens_details": {"reasoning_tokens": 21},
                }
            },
            [
                ("rawUsage", "output_reasoning_tokens (21) cannot exceed output_tokens (20)", 3),
                ("rawUsage", "(21) exceed completionTokens (20), which include them", 3),
            ],
        ),
    ],
)
def test_the_whole_and_its_parts(changes, expected):
    assert problems_of(**changes) == expected


def test_a_bad_usage_kind_names_its_batch_index_and_a_fractional_kind_is_kept_exactly():
    assert problems_of(index=5, usage_kinds={"input_tokens": -1}, prompt_tokens=None, completion_tokens=None) == [
        ("usageKinds", "input_tokens must be a finite number, at least 0 and at most 2147483647", 5)
    ]
    _, checked = check_input(replace(BASE, usage_kinds={"audio_seconds": 1.5}), 0, NOW)
    assert checked.tokens.extra == (("audio_seconds", 1.5),)  # seconds, not tokens: not rounded to 1 or 2
