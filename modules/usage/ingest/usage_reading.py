"""A tracked call's counts, from what its input gives: the provider's own usage (`rawUsage`, read by
genai-prices), usage kinds given directly (`usageKinds`), the explicit token fields, or several of them —
which must then agree. Pure: it lists problems, it never touches the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modules.core.errors import Problem
from modules.providers import (
    MAIN_KINDS,
    TokenCounts,
    UnreadableUsage,
    UsageValue,
    inconsistency,
    kind_problem,
    normalize_provider,
    read_usage,
)
from modules.usage.records import UsageDraft

# Each explicit count field: its GraphQL name and the genai-prices kind it is.
EXPLICIT_KINDS = {
    "promptTokens": "input_tokens",
    "completionTokens": "output_tokens",
    "cachedPromptTokens": "cache_read_tokens",
    "cacheWriteTokens": "cache_write_tokens",
    "reasoningTokens": "output_reasoning_tokens",
}
MAX_API_FLAVOR_LENGTH = 50


@dataclass(frozen=True)
class CallUsage:
    """The model a call names (the input's, else the response's) and its counts."""

    model: str | None
    tokens: TokenCounts


def explicit_counts(item: UsageDraft) -> dict[str, int | None]:
    return {
        "promptTokens": item.prompt_tokens,
        "completionTokens": item.completion_tokens,
        "cachedPromptTokens": item.cached_prompt_tokens,
        "cacheWriteTokens": item.cache_write_tokens,
        "reasoningTokens": item.reasoning_tokens,
    }


def given_kinds(problems: list[Problem], value: object, index: int | None) -> dict[str, UsageValue]:
    """`usageKinds`: a flat JSON object of genai-prices usage kinds and their counts."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(Problem("usageKinds", "must be a JSON object of genai-prices usage kinds and counts", index))
        return {}
    kinds: dict[str, UsageValue] = {}
    for key, count in value.items():
        reason = kind_problem(str(key), count)
        if reason is not None:
            problems.append(Problem("usageKinds", reason, index))
        elif count:
            kinds[key] = int(count) if float(count).is_integer() else float(count)
    return kinds


def raw_kinds(problems: list[Problem], item: UsageDraft, index: int | None) -> tuple[str | None, dict[str, Any] | None]:
    """The model the raw usage names and the kinds genai-prices reads off it (None: unreadable, said why)."""
    flavor = item.api_flavor
    if flavor is not None and not 0 < len(flavor) <= MAX_API_FLAVOR_LENGTH:
        problems.append(Problem("apiFlavor", f"must be 1 to {MAX_API_FLAVOR_LENGTH} characters", index))
        return None, None
    try:
        read = read_usage(item.raw_usage, provider=normalize_provider(item.provider), api_flavor=flavor)
    except UnreadableUsage as error:
        problems.append(Problem(error.field, str(error), index))
        return None, None
    found = [reason for key, value in read.kinds.items() if (reason := kind_problem(key, value))]
    if found:  # genai-prices reads any non-negative number; a count of tokens is whole and bounded here
        problems.extend(Problem("rawUsage", reason, index) for reason in found)
        return None, None
    return read.model, read.kinds


def read_call_usage(problems: list[Problem], item: UsageDraft, index: int | None) -> CallUsage:
    """The call's model and counts, every problem of them listed in `problems`."""
    extra = given_kinds(problems, item.usage_kinds, index)
    model = item.model
    if item.raw_usage is not None:
        raw_model, kinds = raw_kinds(problems, item, index)
        if kinds is None:  # unreadable: its problem is listed
            return CallUsage(model or raw_model, TokenCounts(prompt=0, completion=0))
        counted = agreeing_with_raw(problems, item, extra, kinds, index)
        model = model if model is not None else raw_model
        if model is None:
            problems.append(Problem("model", "is required: rawUsage names no model", index))
    else:
        counted = given_counts(problems, item, extra, index)
        if model is None:
            problems.append(Problem("model", "is required", index))
    source = "rawUsage" if item.raw_usage is not None else "usageKinds"
    if (item.raw_usage is not None or item.usage_kinds is not None) and (reason := inconsistency(counted)):
        problems.append(Problem(source, reason, index))
    return CallUsage(model, token_counts(counted))


def agreeing_with_raw(
    problems: list[Problem],
    item: UsageDraft,
    extra: dict[str, UsageValue],
    kinds: dict[str, UsageValue],
    index: int | None,
) -> dict[str, UsageValue]:
    """The raw usage's kinds, and those usageKinds adds; every explicit field and kind given must equal what
    the raw usage reports (a kind it does not report counts 0 for a field, and may be added by usageKinds)."""
    for field, value in explicit_counts(item).items():
        if value is not None and value >= 0 and value != (reported := kinds.get(EXPLICIT_KINDS[field], 0)):
            problems.append(Problem(field, f"({value}) disagrees with rawUsage, which reports {reported}", index))
    for key, count in extra.items():
        if key in kinds and kinds[key] != count:
            reason = f"{key} ({count}) disagrees with rawUsage, which reports {kinds[key]}"
            problems.append(Problem("usageKinds", reason, index))
    return {**extra, **kinds}


def given_counts(
    problems: list[Problem], item: UsageDraft, extra: dict[str, UsageValue], index: int | None
) -> dict[str, UsageValue]:
    """The explicit fields and usageKinds, which must agree where both give a kind; promptTokens and
    completionTokens are required unless usageKinds is given (negative counts are check_counts' to name)."""
    counted = dict(extra)
    for field, value in explicit_counts(item).items():
        key = EXPLICIT_KINDS[field]
        if value is None:
            if item.usage_kinds is None and field in ("promptTokens", "completionTokens"):
                problems.append(Problem(field, "is required (or give rawUsage or usageKinds)", index))
        elif value < 0:
            continue  # check_counts names it
        elif key in extra and extra[key] != value:
            problems.append(Problem(field, f"({value}) disagrees with usageKinds.{key} ({extra[key]})", index))
        elif value > 0:
            counted[key] = value
    return counted


def token_counts(kinds: dict[str, UsageValue]) -> TokenCounts:
    """The main five kinds as TokenCounts' fields (the event's columns), every other kind in `extra`."""
    main = {field: int(kinds.get(key, 0)) for key, field in MAIN_KINDS.items()}
    extra = tuple(sorted((key, value) for key, value in kinds.items() if key not in MAIN_KINDS and value))
    return TokenCounts(**main, extra=extra)
