"""GraphQL output types every usage sub-domain shows (a stored event, a set of metrics), each built from plain
data by one `from_model`."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from modules.core.dataclass_builder import build_dataclass
from modules.core.scalars import BigInt
from modules.providers import CostSource
from modules.usage import records
from modules.usage.conversations.types import ConversationsContext, ConversationType
from modules.usage.records import UsageStatus

# strawberry.enum marks the class in place: fields annotate with the class itself, in types decorated after
# this (strawberry resolves a field's type when its class is decorated).
strawberry.enum(UsageStatus, name="UsageStatus")


def plain_fields(record: object) -> dict[str, Any]:
    """A dataclass's fields by name, values as they are (asdict deep-copies every value: the slowest part of
    answering a series of thousands of groups)."""
    record_type: type = type(record)  # as plain `type`: mypy sees no type[X] as Hashable (python/mypy#11470)
    return {name: getattr(record, name) for name in dataclass_fields(record_type)}


@cache
def dataclass_fields(record_type: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(record_type))


@strawberry.type(name="UsageEvent", description="One stored LLM call.")
class UsageEventType:
    id: strawberry.ID
    workspace_id: strawberry.ID
    request_id: str
    occurred_at: datetime
    received_at: datetime
    provider: str
    model: str
    provider_instance_id: strawberry.ID | None
    task_type: str | None
    user_id: str | None
    session_id: str | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: BigInt
    cached_prompt_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    audio_tokens: BigInt = strawberry.field(description="Input and output audio tokens (in prompt and completion).")
    usage_kinds: JSON = strawberry.field(
        description="Every genai-prices usage kind reported beyond the token fields, by its key (audio, image, "
        "1-hour cache writes, tool-use tokens, web searches…), as priced."
    )
    catalogue_model: str | None = strawberry.field(
        description="The price catalogue's id of `model` (gpt-4o for gpt-4o-2024-08-06); null if it has none."
    )
    input_cost_usd: Decimal | None
    output_cost_usd: Decimal | None
    cost_usd: Decimal | None = strawberry.field(description="Null when the model is unknown (UNKNOWN_MODEL).")
    cost_source: CostSource
    duration_ms: int | None
    time_to_first_token_ms: int | None
    tokens_per_second: float | None = strawberry.field(description="completionTokens / duration, in seconds.")
    status: UsageStatus
    error_type: str | None
    error_message: str | None
    retry_count: int
    streamed: bool | None
    tags: JSON

    @strawberry.field(
        description="What the call said, if its workspace keeps content (null: none kept, or past its retention). "
        "Needs the CONTENT scope (FORBIDDEN without it; the other fields answer as before); every read is logged."
    )
    async def conversation(self, info: strawberry.Info[ConversationsContext]) -> ConversationType | None:
        operation = info.operation.name.value if info.operation.name else None
        key = (UUID(self.workspace_id), int(self.id))
        found = await info.context.conversation_loader.load(key, info.context.principal, operation)
        return ConversationType.from_model(found) if found else None

    @classmethod
    def from_model(cls, event: records.UsageEvent) -> UsageEventType:
        values = plain_fields(event)
        values["id"] = strawberry.ID(str(event.id))
        values["workspace_id"] = strawberry.ID(str(event.workspace_id))
        values["provider_instance_id"] = (
            strawberry.ID(str(event.provider_instance_id)) if event.provider_instance_id else None
        )
        values["tokens_per_second"] = event.tokens_per_second
        return cls(**values)


@strawberry.type(name="UsageMetrics", description="Sums and latency statistics of a set of events.")
class UsageMetricsType:
    calls: BigInt
    success_count: BigInt
    error_count: BigInt
    error_rate: float = strawberry.field(description="errorCount / calls; 0 without calls.")
    retries: BigInt = strawberry.field(description="The retries these calls took: the sum of their retryCount.")
    prompt_tokens: BigInt
    completion_tokens: BigInt
    cached_prompt_tokens: BigInt
    cache_write_tokens: BigInt
    reasoning_tokens: BigInt
    total_tokens: BigInt
    audio_tokens: BigInt = strawberry.field(description="Input and output audio tokens.")
    cost_usd: Decimal = strawberry.field(description="Unknown-model calls count as 0 here; see unpricedCalls.")
    unpriced_calls: BigInt
    avg_cost_per_call: Decimal | None = strawberry.field(description="costUsd / calls, to 10 decimals.")
    distinct_users: BigInt = strawberry.field(description="How many different userIds made these calls.")
    avg_duration_ms: float | None
    p50_duration_ms: float | None = strawberry.field(
        description="Percentiles interpolate as percentile_cont does over the calls with a duration: exact "
        "from the events, within 2% from the latency histograms (whole UTC days, no filter or group finer "
        "than provider and model)."
    )
    p90_duration_ms: float | None
    p95_duration_ms: float | None
    p99_duration_ms: float | None
    avg_time_to_first_token_ms: float | None
    p50_time_to_first_token_ms: float | None
    p95_time_to_first_token_ms: float | None
    avg_tokens_per_second: float | None = strawberry.field(
        description="Completion tokens per second over all timed calls: sum(tokens) / sum(duration)."
    )

    @classmethod
    def from_model(cls, metrics: records.UsageMetrics) -> UsageMetricsType:
        return build_dataclass(  # built for each group of an answer: at a third of __init__'s cost
            cls, {**vars(metrics), "error_rate": metrics.error_rate, "avg_cost_per_call": metrics.avg_cost_per_call}
        )
