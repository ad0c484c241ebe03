"""Export of usage events: CSV (RFC 4180, header row, UTF-8) or JSON Lines, written row by row as a
server-side cursor reads them, and the query string that carries a UsageFilter to the export URL.

Any INGEST key writes the text an export carries (ids, models, error messages, tags…), and a spreadsheet runs
a cell that starts with = + - @ tab or CR as a formula (OWASP, CSV Injection). The CSV writer therefore quotes
every text cell, so that no separator inside one (`;` in many locales) can start a new cell, and prefixes with
`'` the cells a spreadsheet would read as a formula, those characters first or after leading whitespace and
quotes. Its own numbers and booleans stay bare, read as numbers. JSON Lines carries the values as stored.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from modules.core.errors import BadUserInput, Problem
from modules.core.scalars import format_decimal, parse_datetime
from modules.core.text import text_problem
from modules.usage.records import TagCondition, UsageEvent, UsageFilterDraft, UsageStatus

ROWS_PER_CHUNK = 25  # ~6 KB, ~3 ms of CPU: the server serves other requests between two chunks


class ExportFormat(StrEnum):
    CSV = "CSV"
    JSONL = "JSONL"

    @property
    def extension(self) -> str:
        return self.value.lower()

    @property
    def media_type(self) -> str:
        return "text/csv; charset=utf-8" if self is ExportFormat.CSV else "application/x-ndjson; charset=utf-8"


# Header → how a stored event gives it; every stored field, names as in the GraphQL API.
COLUMNS: dict[str, str] = {
    "id": "id",
    "workspaceId": "workspace_id",
    "requestId": "request_id",
    "occurredAt": "occurred_at",
    "receivedAt": "received_at",
    "provider": "provider",
    "model": "model",
    "providerInstanceId": "provider_instance_id",
    "taskType": "task_type",
    "userId": "user_id",
    "sessionId": "session_id",
    "promptTokens": "prompt_tokens",
    "completionTokens": "completion_tokens",
    "totalTokens": "total_tokens",
    "cachedPromptTokens": "cached_prompt_tokens",
    "cacheWriteTokens": "cache_write_tokens",
    "reasoningTokens": "reasoning_tokens",
    "audioTokens": "audio_tokens",
    "usageKinds": "usage_kinds",
    "catalogueModel": "catalogue_model",
    "inputCostUsd": "input_cost_usd",
    "outputCostUsd": "output_cost_usd",
    "costUsd": "cost_usd",
    "costSource": "cost_source",
    "durationMs": "duration_ms",
    "timeToFirstTokenMs": "time_to_first_token_ms",
    "status": "status",
    "errorType": "error_type",
    "errorMessage": "error_message",
    "retryCount": "retry_count",
    "streamed": "streamed",
    "tags": "tags",
}


PLAIN_TYPES = frozenset({int, float, bool, str, dict, type(None)})


def exported(value: Any) -> Any:
    """A stored value as text-safe data: money as decimal strings, times in ISO 8601, enums by name.
    Dispatches on the exact type first: this runs ~30 times a row."""
    kind = type(value)
    if kind in PLAIN_TYPES:
        return value
    if kind is Decimal:
        return format_decimal(value)
    if kind is datetime:
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return str(value)


def event_record(event: UsageEvent) -> dict[str, Any]:
    return {header: exported(getattr(event, attribute)) for header, attribute in COLUMNS.items()}


class Bare:
    """Text the CSV writer leaves unquoted: QUOTE_NONNUMERIC quotes all but numbers, and this passes for one."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __float__(self) -> float:
        """Never called: having it is what makes csv take this for a number (PyNumber_Check)."""
        raise NotImplementedError


EMPTY, TRUE, FALSE = Bare(""), Bare("true"), Bare("false")
FORMULA = re.compile(r"[\s\"']*[=+\-@\t\r]")  # OWASP's first characters, maybe after whitespace and quotes
FORMULA_FIRST = frozenset("=+-@\t\r\"'")


def defused(text: str) -> str:
    """`text` as a spreadsheet reads it as text: with a `'` first when it would be read as a formula."""
    first = text[:1]
    if first and (first in FORMULA_FIRST or first.isspace()) and FORMULA.match(text):
        return "'" + text
    return text


def csv_cell(value: Any) -> Any:
    """A stored value as its CSV cell: our numbers bare, text quoted and defused. Runs ~30 times a row."""
    kind = type(value)
    if kind is int:
        return value
    if kind is str:
        return defused(value)
    if value is None:
        return EMPTY
    if kind is bool:
        return TRUE if value else FALSE
    if kind is Decimal:
        return Bare(format_decimal(value))
    if kind is dict:
        return defused(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    return defused(exported(value))


ATTRIBUTES = tuple(COLUMNS.values())


async def csv_chunks(events: AsyncGenerator[UsageEvent, None]) -> AsyncGenerator[str, None]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(map(Bare, COLUMNS))
    rows = 0
    async with aclosing(events):
        async for event in events:
            writer.writerow([csv_cell(getattr(event, attribute)) for attribute in ATTRIBUTES])
            rows += 1
            if rows % ROWS_PER_CHUNK == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


async def jsonl_chunks(events: AsyncGenerator[UsageEvent, None]) -> AsyncGenerator[str, None]:
    lines: list[str] = []
    async with aclosing(events):
        async for event in events:
            lines.append(json.dumps(event_record(event), ensure_ascii=False, separators=(",", ":")))
            if len(lines) == ROWS_PER_CHUNK:
                yield "\n".join(lines) + "\n"
                lines.clear()
    if lines:
        yield "\n".join(lines) + "\n"


SINGLE = {
    "workspaceId": "workspace_id",
    "userId": "user_id",
    "provider": "provider",
    "model": "model",
    "taskType": "task_type",
    "providerInstanceId": "provider_instance_id",
    "status": "status",
    "errorType": "error_type",
    "sessionId": "session_id",
    "catalogueModel": "catalogue_model",
    "from": "start",
    "to": "end",
}
LISTS = {
    "userIds": "user_ids",
    "providers": "providers",
    "models": "models",
    "taskTypes": "task_types",
    "catalogueModels": "catalogue_models",
}


def filter_query(given: UsageFilterDraft) -> str:
    """The query string of the export URL for a filter (lists and tags as repeated parameters)."""
    pairs: list[tuple[str, str]] = []
    for name, attribute in SINGLE.items():
        value = getattr(given, attribute)
        if value is not None:
            pairs.append((name, exported(value)))
    for name, attribute in LISTS.items():
        pairs.extend((name, v) for v in getattr(given, attribute) or ())
    pairs.extend(("tag", t.key if t.value is None else f"{t.key}:{t.value}") for t in given.tags)
    return urlencode(pairs)


def filter_from_query(params: Mapping[str, str], lists: Mapping[str, list[str]]) -> UsageFilterDraft:
    """The filter of an export URL; BAD_USER_INPUT naming the parameter that is wrong."""
    unknown = set(params) - set(SINGLE) - set(LISTS) - {"tag"}
    problems = [Problem(name[:60], "is not a filter parameter") for name in sorted(unknown)]
    problems += [
        Problem(name, reason)
        for name in sorted(set(lists) - unknown)
        for reason in {r for r in map(text_problem, lists[name]) if r is not None}
    ]
    values: dict[str, Any] = {}
    for name, attribute in SINGLE.items():
        if name in params:
            values[attribute] = params[name]
    for name in ("from", "to"):
        if name in params:
            try:
                values[SINGLE[name]] = parse_datetime(params[name])
            except ValueError as error:
                problems.append(
                    Problem(name, f"must be an ISO 8601 time with offset, e.g. 2026-01-01T00:00:00Z ({error})")
                )
    if "status" in params:
        try:
            values["status"] = UsageStatus(params["status"])
        except ValueError:
            problems.append(Problem("status", "must be SUCCESS or ERROR"))
    if "workspaceId" not in params:
        problems.append(Problem("workspaceId", "is required"))
    if problems:
        raise BadUserInput(problems)
    for name, attribute in LISTS.items():
        if lists.get(name):
            values[attribute] = tuple(lists[name])
    values["tags"] = tuple(
        TagCondition(*tag.split(":", 1)) if ":" in tag else TagCondition(tag) for tag in lists.get("tag", [])
    )
    return UsageFilterDraft(**values)
