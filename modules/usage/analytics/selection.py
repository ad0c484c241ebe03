"""Which metrics a GraphQL request selects, so the SQL computes only those (see MetricNeeds)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import strawberry
from strawberry.types.nodes import SelectedField

from modules.usage.analytics.metrics import MetricNeeds

DURATION_PERCENTILES = {"p50DurationMs", "p90DurationMs", "p95DurationMs", "p99DurationMs"}
TTFT_PERCENTILES = {"p50TimeToFirstTokenMs", "p95TimeToFirstTokenMs"}


def selected_names(selections: Iterable[Any]) -> Iterator[str]:
    """Every field name in the selection tree, fragments included."""
    for selection in selections:
        name = getattr(selection, "name", None)
        if name is not None:
            yield name
        yield from selected_names(getattr(selection, "selections", None) or ())


# The optional sums (metrics.OPTIONAL_SUMS) each field of UsageMetrics or UsageChange is computed from.
FIELD_SUMS = {
    "successCount": "success_count",
    "errorCount": "error_count",
    "errorRate": "error_count",
    "promptTokens": "prompt_tokens",
    "completionTokens": "completion_tokens",
    "cachedPromptTokens": "cached_prompt_tokens",
    "cacheWriteTokens": "cache_write_tokens",
    "reasoningTokens": "reasoning_tokens",
    "totalTokens": "total_tokens",
    "audioTokens": "audio_tokens",
    "unpricedCalls": "unpriced_calls",
    "avgDurationMs": "avg_duration_ms",
    "avgTimeToFirstTokenMs": "avg_time_to_first_token_ms",
    "avgTokensPerSecond": "avg_tokens_per_second",
    "retries": "retries",
}


def child_fields(info: strawberry.Info[Any]) -> set[str]:
    """The names of the fields selected directly in the resolved field (through fragments too)."""

    def children(selections: Iterable[Any]) -> Iterator[str]:
        for selection in selections:
            if isinstance(selection, SelectedField):
                yield selection.name
            else:  # a fragment: its fields are at this level
                yield from children(selection.selections)

    return {name for field in info.selected_fields for name in children(field.selections)}


def metric_needs(info: strawberry.Info[Any]) -> MetricNeeds:
    names = set(selected_names(info.selected_fields))
    return MetricNeeds(
        duration_percentiles=bool(names & DURATION_PERCENTILES),
        ttft_percentiles=bool(names & TTFT_PERCENTILES),
        distinct_users="distinctUsers" in names,
        sums=frozenset(FIELD_SUMS[name] for name in names & FIELD_SUMS.keys()),
    )


def asks_percentiles_under(info: strawberry.Info[Any], field: str) -> bool:
    """Whether a percentile is selected inside the child field `field` of the resolved field (a breakdown
    whose task types' percentiles are not asked can take the others' from the latency histograms)."""

    def under(selections: Iterable[Any]) -> Iterator[Any]:
        for selection in selections:
            if isinstance(selection, SelectedField):
                if selection.name == field:
                    yield from selection.selections
            else:
                yield from under(selection.selections)

    found = {name for top in info.selected_fields for name in selected_names(under(top.selections))}
    return bool(found & (DURATION_PERCENTILES | TTFT_PERCENTILES))


def selects_under(info: strawberry.Info[Any], *paths: tuple[str, ...]) -> bool:
    """Whether the resolved field's selection reaches any of `paths` (field names from its children down,
    through fragments): e.g. ("columns", "totals")."""

    def reaches(selections: Iterable[Any], path: tuple[str, ...]) -> bool:
        if not path:
            return True
        for selection in selections:
            if not isinstance(selection, SelectedField):  # a fragment: its fields are at this level
                if reaches(selection.selections, path):
                    return True
            elif selection.name == path[0] and reaches(selection.selections, path[1:]):
                return True
        return False

    return any(reaches(field.selections, path) for field in info.selected_fields for path in paths)
