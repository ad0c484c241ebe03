"""Tool arguments and results that a provider gives as JSON objects (Anthropic's `input`, Gemini's `args` and
`response`), written as the compact JSON text a `ToolCall` keeps."""

from __future__ import annotations

import json

from .places import At

MAX_DEPTH = 64  # parsed JSON from a caller: checked with a loop, so that json.dumps never recurses deeper


def compact_json(value: object, at: At) -> str:
    """`value` as compact JSON text (non-ASCII kept as is, so that redaction sees the real characters)."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        elif item is None or isinstance(item, str | int | float | bool):
            continue
        else:
            raise at.mismatch("JSON", item)
        if depth > MAX_DEPTH:
            raise at.error(f"nested deeper than {MAX_DEPTH} levels")
        pending.extend((child, depth + 1) for child in children)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_arguments(given: object, at: At) -> str:
    """OpenAI's arguments: the JSON text as given (never re-parsed); an object some callers send instead is
    written as compact JSON; missing is empty."""
    if given is None:
        return ""
    if isinstance(given, str):
        return given
    if isinstance(given, dict | list):
        return compact_json(given, at)
    raise at.mismatch("a string of JSON", given)
