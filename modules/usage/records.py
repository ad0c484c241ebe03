"""Plain data of the usage module, as it crosses layers: what comes in, what is stored, what is summed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from modules.providers import CostSource, UsageValue, quantize


class UsageStatus(StrEnum):
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"


@dataclass(frozen=True)
class UsageDraft:
    """One call as the caller reported it, not yet validated: its counts given, or the provider's own usage
    (`raw_usage`) to read them from, or both (then they must agree)."""

    workspace_id: str
    provider: str
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    request_id: str | None = None
    occurred_at: datetime | None = None
    provider_instance_id: str | None = None
    task_type: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    total_tokens: int | None = None
    cached_prompt_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_usd: Decimal | None = None
    duration_ms: int | None = None
    time_to_first_token_ms: int | None = None
    status: UsageStatus | None = None
    error_type: str | None = None
    error_message: str | None = None
    retry_count: int | None = None
    streamed: bool | None = None
    tags: Any = None
    raw_usage: Any = None  # the provider's usage object, response body or final stream chunk, as returned
    api_flavor: str | None = None
    usage_kinds: Any = None  # genai-prices usage kinds given directly: {"cache_write_1h_tokens": 5000, …}
    content_input: Any = None  # what the call sent, in the provider's shape: the request body or its messages
    content_output: Any = None  # what it answered: the response body or its message (a stream reassembled)


@dataclass(frozen=True, kw_only=True)
class NewUsageEvent:
    """A validated, priced call, ready to be stored."""

    workspace_id: UUID
    request_id: str
    occurred_at: datetime
    received_at: datetime
    provider: str
    model: str
    provider_instance_id: UUID | None
    task_type: str | None
    user_id: str | None
    session_id: str | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_prompt_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    input_cost_usd: Decimal | None
    output_cost_usd: Decimal | None
    cost_usd: Decimal | None
    cost_source: CostSource
    duration_ms: int | None
    time_to_first_token_ms: int | None
    status: UsageStatus
    error_type: str | None
    error_message: str | None
    retry_count: int
    streamed: bool | None
    tags: dict[str, str] = field(default_factory=dict)
    audio_tokens: int = 0  # input and output audio tokens (parts of prompt and completion tokens)
    usage_kinds: dict[str, UsageValue] = field(default_factory=dict)  # genai-prices kinds beyond the columns
    catalogue_model: str | None = None  # the catalogue's id of `model`: one for all its dated snapshots


@dataclass(frozen=True, kw_only=True)
class UsageEvent(NewUsageEvent):
    """A stored call."""

    id: int

    @property
    def tokens_per_second(self) -> float | None:
        """Completion tokens per second of the whole call; None without a duration."""
        if not self.duration_ms:
            return None
        return self.completion_tokens * 1000 / self.duration_ms


@dataclass(frozen=True)
class TrackResult:
    """What one tracked input became: its stored event, and whether it had been stored before."""

    event: UsageEvent
    duplicate: bool


@dataclass(frozen=True)
class TagCondition:
    """The event's tag `key` equals `value`; with no value, the event has the tag at all."""

    key: str
    value: str | None = None


@dataclass(frozen=True)
class UsageFilterSpec:
    """A validated filter: one workspace, optional equalities and `in` lists (all must hold), tags, and a
    half-open time range [start, end)."""

    workspace_id: UUID
    user_id: str | None = None
    provider: str | None = None
    model: str | None = None
    task_type: str | None = None
    provider_instance_id: UUID | None = None
    status: UsageStatus | None = None
    error_type: str | None = None
    session_id: str | None = None
    user_ids: tuple[str, ...] | None = None
    providers: tuple[str, ...] | None = None
    models: tuple[str, ...] | None = None
    task_types: tuple[str, ...] | None = None
    tags: tuple[TagCondition, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    with_user: bool = False  # only events that name an end user
    catalogue_model: str | None = None
    catalogue_models: tuple[str, ...] | None = None


@dataclass(frozen=True)
class UsageMetrics:
    calls: int
    success_count: int
    error_count: int
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    total_tokens: int
    cost_usd: Decimal
    unpriced_calls: int
    distinct_users: int
    audio_tokens: int
    avg_duration_ms: float | None
    p50_duration_ms: float | None
    p90_duration_ms: float | None
    p95_duration_ms: float | None
    p99_duration_ms: float | None
    avg_time_to_first_token_ms: float | None
    p50_time_to_first_token_ms: float | None
    p95_time_to_first_token_ms: float | None
    avg_tokens_per_second: float | None
    retries: int = 0  # the sum of the events' retry_count

    @classmethod
    def empty(cls) -> UsageMetrics:
        """The metrics of no calls: zeros, and no averages or percentiles."""
        return cls(
            calls=0,
            success_count=0,
            error_count=0,
            prompt_tokens=0,
            completion_tokens=0,
            cached_prompt_tokens=0,
            cache_write_tokens=0,
            reasoning_tokens=0,
            total_tokens=0,
            cost_usd=Decimal(0),
            unpriced_calls=0,
            distinct_users=0,
            audio_tokens=0,
            avg_duration_ms=None,
            p50_duration_ms=None,
            p90_duration_ms=None,
            p95_duration_ms=None,
            p99_duration_ms=None,
            avg_time_to_first_token_ms=None,
            p50_time_to_first_token_ms=None,
            p95_time_to_first_token_ms=None,
            avg_tokens_per_second=None,
        )

    @property
    def error_rate(self) -> float:
        return self.error_count / self.calls if self.calls else 0.0

    @property
    def avg_cost_per_call(self) -> Decimal | None:
        return quantize(self.cost_usd / self.calls) if self.calls else None


@dataclass(frozen=True)
class UsageGroup:
    key: str | None
    metrics: UsageMetrics


@dataclass(frozen=True)
class UsageBreakdown:
    totals: UsageMetrics
    by_provider: list[UsageGroup]
    by_model: list[UsageGroup]
    by_task_type: list[UsageGroup]
    previous: UsageMetrics | None = None  # the same length of time just before, when asked


@dataclass(frozen=True)
class UsageEventPage:
    events: list[UsageEvent]
    has_next_page: bool


@dataclass(frozen=True)
class UsageFilterDraft:
    """A filter as the caller sent it, not yet validated. `start` inclusive, `end` exclusive."""

    workspace_id: str
    user_id: str | None = None
    provider: str | None = None
    model: str | None = None
    task_type: str | None = None
    provider_instance_id: str | None = None
    status: UsageStatus | None = None
    error_type: str | None = None
    session_id: str | None = None
    user_ids: tuple[str, ...] | None = None
    providers: tuple[str, ...] | None = None
    models: tuple[str, ...] | None = None
    task_types: tuple[str, ...] | None = None
    tags: tuple[TagCondition, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    catalogue_model: str | None = None
    catalogue_models: tuple[str, ...] | None = None


@dataclass(frozen=True)
class UnpricedModel:
    provider: str
    model: str
    calls: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class RecostResult:
    """Events re-priced (never the caller's own figures), how many changed, their sum before and after."""

    examined: int
    changed: int
    cost_before_usd: Decimal
    cost_after_usd: Decimal


@dataclass(frozen=True)
class DimensionGroup:
    """One group of a grouped answer: the value of each requested dimension, in order, and its metrics."""

    values: tuple[str | None, ...]
    metrics: UsageMetrics


@dataclass(frozen=True)
class GroupedUsage:
    """The first `limit` groups; `others` sums every event of the groups left out (None if none were)."""

    workspace_id: UUID
    groups: list[DimensionGroup]
    others: UsageMetrics | None


@dataclass(frozen=True)
class UserActivity:
    """One end user's usage: totals, when first and last seen, by model, and the latest events."""

    workspace_id: UUID
    user_id: str
    metrics: UsageMetrics
    first_seen: datetime | None
    last_seen: datetime | None
    models: list[DimensionGroup]
    recent_events: list[UsageEvent]


@dataclass(frozen=True)
class SessionSummary:
    """A session's numbers, from its events; `completed_at` once completeSession was called."""

    workspace_id: UUID
    session_id: str
    calls: int
    error_count: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: Decimal
    user_ids: list[str]
    first_event_at: datetime
    last_event_at: datetime
    completed_at: datetime | None

    @property
    def duration_ms(self) -> int:
        return int((self.last_event_at - self.first_event_at).total_seconds() * 1000)


@dataclass(frozen=True)
class SessionStats:
    sessions: int
    avg_calls: float | None
    avg_duration_ms: float | None
    avg_cost_usd: Decimal | None
