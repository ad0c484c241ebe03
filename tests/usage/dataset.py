"""A usage data set and an independent reference: plain Python sums over the inputs it generated.

60 events over 2 workspaces, 3 providers, 5 models (one unknown to the catalogue), 3 task types (and
events without one), 3 users, 2 days, with errors. Prices are written here by hand from the providers'
price pages, not read from the code under test.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

# USD per million tokens: input, output, cache read, cache write (None: the input rate).
PRICES: dict[tuple[str, str], tuple[str, str, str | None, str | None]] = {
    ("openai", "gpt-4o"): ("2.5", "10", "1.25", None),
    ("openai", "gpt-4o-mini"): ("0.15", "0.6", "0.075", None),
    ("anthropic", "claude-3-5-haiku-latest"): ("0.8", "4", "0.08", "1"),
    ("mistral", "mistral-small-latest"): ("0.1", "0.3", None, None),
}
MODELS = [*PRICES, ("mistral", "in-house-7b")]  # the last one is unknown to the catalogue
TASK_TYPES = ["chat", "summarize", "classify", None]
USERS = ["alice", "bob", "carol"]
DAY_ONE = datetime(2025, 6, 1, tzinfo=UTC)
DAY_TWO = datetime(2025, 6, 2, tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    workspace: str
    request_id: str
    occurred_at: datetime
    provider: str
    model: str
    task_type: str | None
    user_id: str
    prompt: int
    completion: int
    cached: int
    cache_write: int
    reasoning: int
    duration_ms: int
    ttft_ms: int
    error: bool
    session_id: str
    tags: dict[str, str]

    def as_input(self) -> dict[str, Any]:
        return {
            "workspaceId": self.workspace,
            "requestId": self.request_id,
            "occurredAt": self.occurred_at.isoformat(),
            "provider": self.provider,
            "model": self.model,
            "taskType": self.task_type,
            "userId": self.user_id,
            "promptTokens": self.prompt,
            "completionTokens": self.completion,
            "cachedPromptTokens": self.cached,
            "cacheWriteTokens": self.cache_write,
            "reasoningTokens": self.reasoning,
            "durationMs": self.duration_ms,
            "timeToFirstTokenMs": self.ttft_ms,
            "status": "ERROR" if self.error else "SUCCESS",
            "errorType": "rate_limit" if self.error else None,
            "sessionId": self.session_id,
            "tags": self.tags,
        }

    @property
    def cost(self) -> Decimal | None:
        """Unknown models cost None."""
        if (self.provider, self.model) not in PRICES:
            return None
        rate_in, rate_out, rate_cached, rate_write = (
            Decimal(p) if p is not None else None for p in PRICES[(self.provider, self.model)]
        )
        uncached = self.prompt - self.cached - self.cache_write
        input_cost = (
            uncached * rate_in + self.cached * (rate_cached or rate_in) + self.cache_write * (rate_write or rate_in)
        )
        return (input_cost + self.completion * rate_out) / Decimal(1_000_000)


def make_events(workspaces: tuple[str, str]) -> list[Event]:
    events = []
    for i in range(60):
        provider, model = MODELS[i % len(MODELS)]
        prompt = 100 + 37 * i
        completion = 10 + 11 * i
        events.append(
            Event(
                workspace=workspaces[1] if i % 6 == 5 else workspaces[0],
                request_id=f"req-{i:03d}",
                occurred_at=(DAY_ONE if i < 30 else DAY_TWO) + timedelta(minutes=47 * (i % 30)),
                provider=provider,
                model=model,
                task_type=TASK_TYPES[i % 4],
                user_id=USERS[(i // 2) % 3],
                prompt=prompt,
                completion=completion,
                cached=prompt // 4 if i % 2 == 0 else 0,
                cache_write=20 if provider == "anthropic" and i % 3 == 0 else 0,
                reasoning=completion // 2 if model == "gpt-4o" and i % 4 == 1 else 0,
                duration_ms=200 + 13 * i,
                ttft_ms=50 + i,
                error=i % 7 == 0,
                session_id=f"s{i // 4:02d}",
                tags={"feature": ["search", "chat", "summary"][i % 3], **({"env": "prod"} if i % 5 else {})},
            )
        )
    return events


def percentile(values: list[int], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def metrics(events: Iterable[Event]) -> dict[str, Any]:
    """The UsageMetrics the API must answer for these events, computed here in plain Python."""
    events = list(events)
    calls = len(events)
    errors = sum(e.error for e in events)
    durations = [e.duration_ms for e in events]
    ttfts = [e.ttft_ms for e in events]
    cost = sum((e.cost for e in events if e.cost is not None), Decimal(0))
    return {
        "calls": calls,
        "successCount": calls - errors,
        "errorCount": errors,
        "errorRate": errors / calls if calls else 0.0,
        "promptTokens": sum(e.prompt for e in events),
        "completionTokens": sum(e.completion for e in events),
        "cachedPromptTokens": sum(e.cached for e in events),
        "cacheWriteTokens": sum(e.cache_write for e in events),
        "reasoningTokens": sum(e.reasoning for e in events),
        "totalTokens": sum(e.prompt + e.completion for e in events),
        "costUsd": cost,
        "unpricedCalls": sum(e.cost is None for e in events),
        "avgCostPerCall": (cost / calls).quantize(Decimal("1E-10")) if calls else None,
        "distinctUsers": len({e.user_id for e in events}),
        "avgDurationMs": sum(durations) / calls if calls else None,
        "p50DurationMs": percentile(durations, 0.5),
        "p90DurationMs": percentile(durations, 0.9),
        "p95DurationMs": percentile(durations, 0.95),
        "p99DurationMs": percentile(durations, 0.99),
        "avgTimeToFirstTokenMs": sum(ttfts) / calls if calls else None,
        "p50TimeToFirstTokenMs": percentile(ttfts, 0.5),
        "p95TimeToFirstTokenMs": percentile(ttfts, 0.95),
        "avgTokensPerSecond": (sum(e.completion for e in events) * 1000 / sum(durations) if calls else None),
    }


def groups(events: Iterable[Event], key: Callable[[Event], Any]) -> list[tuple[Any, dict[str, Any]]]:
    """Groups ordered as the API orders them: cost, then calls, descending; then the key's values, nulls
    last. A key is one value or a tuple of values."""
    by_key: dict[Any, list[Event]] = defaultdict(list)
    for event in events:
        by_key[key(event)].append(event)
    found = [(k, metrics(v)) for k, v in by_key.items()]

    def values_order(k: Any) -> tuple[Any, ...]:
        return tuple((v is None, v or "") for v in (k if isinstance(k, tuple) else (k,)))

    found.sort(key=lambda kv: (-kv[1]["costUsd"], -kv[1]["calls"], values_order(kv[0])))
    return found


DIMENSIONS: dict[str, Callable[[Event], str | None]] = {
    "PROVIDER": lambda e: e.provider,
    "PROVIDER_INSTANCE": lambda e: None,
    "MODEL": lambda e: e.model,
    "TASK_TYPE": lambda e: e.task_type,
    "USER": lambda e: e.user_id,
    "SESSION": lambda e: e.session_id,
    "STATUS": lambda e: "ERROR" if e.error else "SUCCESS",
    "ERROR_TYPE": lambda e: "rate_limit" if e.error else None,
    "TAG": lambda e: e.tags.get("env"),
}
