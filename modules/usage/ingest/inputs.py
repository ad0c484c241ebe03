"""The GraphQL input of one LLM call, with `to_model()` into the service's plain draft."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON

from modules.usage.ingest.conversion import planned_conversion
from modules.usage.records import UsageDraft, UsageStatus


@planned_conversion
@strawberry.input(
    description="One LLM call: the provider's own usage (rawUsage), read by genai-prices into every token kind, "
    "or counts given (promptTokens, completionTokens… and usageKinds), or both, which must then agree. "
    "promptTokens counts all input tokens, cached ones included; cachedPromptTokens and cacheWriteTokens are "
    "parts of it. reasoningTokens are part of completionTokens."
)
class TrackUsageInput:
    workspace_id: strawberry.ID = strawberry.field(description="The workspace's id or slug.")
    provider: str = strawberry.field(description="Provider id as in the price catalogue, e.g. openai, anthropic.")
    model: str | None = strawberry.field(
        default=None, description="The model asked for or answered. Required unless rawUsage names one."
    )
    prompt_tokens: int | None = strawberry.field(
        default=None, description="Required unless rawUsage or usageKinds is given; else it must agree with them."
    )
    completion_tokens: int | None = strawberry.field(default=None, description="As promptTokens.")
    raw_usage: JSON | None = strawberry.field(
        default=None,
        description="The provider's usage exactly as returned: the usage object, the whole response body, or a "
        "stream's final chunk or event (OpenAI's last chunk, Responses' response.completed, Anthropic's "
        "message_delta, Gemini's last chunk). Read with genai-prices' extract_usage for provider and apiFlavor.",
    )
    api_flavor: str | None = strawberry.field(
        default=None,
        description="genai-prices' API flavour of rawUsage (openai: chat, responses, embeddings…; anthropic and "
        "google: default). Default: the provider's flavour that reads the most kinds.",
    )
    usage_kinds: JSON | None = strawberry.field(
        default=None,
        description='genai-prices usage kinds and counts, e.g. {"cache_write_1h_tokens": 5000, '
        '"input_audio_tokens": 9000, "web_searches": 2}: kinds the token fields do not name. With rawUsage, '
        "they must agree with what it reports, or add what it does not.",
    )
    request_id: str | None = strawberry.field(
        default=None,
        description="Idempotency key: the same id is stored once per workspace. Default: generated.",
    )
    occurred_at: datetime | None = strawberry.field(default=None, description="When the call ended. Default: now.")
    provider_instance_id: strawberry.ID | None = None
    task_type: str | None = None
    user_id: str | None = strawberry.field(
        default=None, description="Your own id for the end user; users are registered on first sight."
    )
    session_id: str | None = None
    total_tokens: int | None = strawberry.field(default=None, description="Default: prompt + completion.")
    cached_prompt_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_usd: Decimal | None = strawberry.field(
        default=None, description="Your own figure; it wins over every price (costSource CALLER)."
    )
    duration_ms: int | None = None
    time_to_first_token_ms: int | None = None
    status: UsageStatus | None = strawberry.field(
        default=None, description="Default: ERROR when errorType is given, else SUCCESS."
    )
    error_type: str | None = None
    error_message: str | None = None
    retry_count: int | None = None
    streamed: bool | None = None
    tags: JSON | None = strawberry.field(default=None, description="A flat JSON object of strings.")
    content_input: JSON | None = strawberry.field(
        name="input",
        default=None,
        description="What the call sent, in the provider's own shape: the request body, or its messages "
        "(OpenAI chat messages or Responses input, Anthropic messages, Gemini contents). Stored only if the "
        "workspace keeps content (contentSettings), redacted and bounded; else dropped and counted.",
    )
    content_output: JSON | None = strawberry.field(
        name="output",
        default=None,
        description="What the call answered, in the provider's own shape: the response body or its message.",
    )

    def to_model(self) -> UsageDraft:
        return UsageDraft(
            workspace_id=str(self.workspace_id),
            provider=self.provider,
            model=self.model,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            request_id=self.request_id,
            occurred_at=self.occurred_at,
            provider_instance_id=str(self.provider_instance_id) if self.provider_instance_id else None,
            task_type=self.task_type,
            user_id=self.user_id,
            session_id=self.session_id,
            total_tokens=self.total_tokens,
            cached_prompt_tokens=self.cached_prompt_tokens,
            cache_write_tokens=self.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens,
            cost_usd=self.cost_usd,
            duration_ms=self.duration_ms,
            time_to_first_token_ms=self.time_to_first_token_ms,
            status=self.status,
            error_type=self.error_type,
            error_message=self.error_message,
            retry_count=self.retry_count,
            streamed=self.streamed,
            tags=self.tags,
            raw_usage=self.raw_usage,
            api_flavor=self.api_flavor,
            usage_kinds=self.usage_kinds,
            content_input=self.content_input,
            content_output=self.content_output,
        )
