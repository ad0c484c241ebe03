"""The one table of the span attributes read into a usage event, and of the provider names mapped to ours.

Names differ across instrumentations and across versions of the GenAI semantic conventions; for each field
the first attribute present wins, in the order listed. Who emits what (as of the versions in constraints.txt):
- semconv: the GenAI semantic conventions (gen_ai.provider.name since 1.37, gen_ai.system before), as set by
  the official `opentelemetry-instrumentation-genai-openai` (was -openai-v2; through opentelemetry-util-genai)
  and OpenLIT;
- OpenLLMetry: Traceloop's `opentelemetry-instrumentation-openai` / `-anthropic` (semantic-conventions-ai), which
  also keep some pre-1.37 names (gen_ai.usage.prompt_tokens, llm.usage.total_tokens…);
- ours: `llm_usage.*`, for what no convention names (task type, tags), on the span or the resource.
"""

from __future__ import annotations

from dataclasses import dataclass

OUR_PREFIX = "llm_usage."
TAG_PREFIX = "llm_usage.tag."  # llm_usage.tag.feature=search → tags {"feature": "search"}
RESOURCE_TAGS = {"service.name": "service.name"}  # resource attribute → tag key
TRACE_ID_LENGTH = 16  # bytes of a valid trace id; a span id has 8


@dataclass(frozen=True)
class Read:
    """Where a usage event's field comes from: the attributes tried in order, and who emits each."""

    field: str  # the trackUsage input field it fills (GraphQL name)
    names: tuple[str, ...]
    emitted_by: str
    resource_too: bool = False  # also read from the resource's attributes when the span has none of them


READS: tuple[Read, ...] = (
    Read("provider", ("gen_ai.provider.name", "gen_ai.system"), "semconv ≥ 1.37 / earlier semconv, OpenLLMetry"),
    Read("model", ("gen_ai.response.model", "gen_ai.request.model"), "semconv, OpenLLMetry (the answering one first)"),
    Read("promptTokens", ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"), "semconv / OpenLLMetry, old"),
    Read(
        "completionTokens",
        ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"),
        "semconv / OpenLLMetry, old",
    ),
    Read("totalTokens", ("gen_ai.usage.total_tokens", "llm.usage.total_tokens"), "OpenLLMetry"),
    Read(
        "cachedPromptTokens",
        ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens"),
        "semconv, OpenLLMetry / OpenLLMetry, old",
    ),
    Read(
        "cacheWriteTokens",
        (
            "gen_ai.usage.cache_creation.input_tokens",
            "gen_ai.usage.cache_write.input_tokens",
            "gen_ai.usage.cache_creation_input_tokens",
        ),
        "semconv, OpenLLMetry / opentelemetry-util-genai / OpenLLMetry, old",
    ),
    Read(
        "reasoningTokens",
        ("gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens"),
        "semconv / OpenLLMetry",
    ),
    Read("usageKinds.input_audio_tokens", ("gen_ai.usage.audio.input_tokens",), "opentelemetry-util-genai"),
    Read("usageKinds.output_audio_tokens", ("gen_ai.usage.audio.output_tokens",), "opentelemetry-util-genai"),
    Read(
        "timeToFirstTokenMs",
        ("gen_ai.response.time_to_first_chunk", "gen_ai.server.time_to_first_token", "gen_ai.server.ttft"),
        "semconv / OpenLIT / OpenLIT, old (seconds; else the first gen_ai.content.completion.chunk event)",
    ),
    Read("streamed", ("gen_ai.request.stream", "gen_ai.is_streaming", "llm.is_streaming"), "semconv / OpenLLMetry"),
    Read("errorType", ("error.type",), "semconv (else the exception event's exception.type)"),
    Read(
        "userId",
        ("llm_usage.user_id", "user.id", "enduser.id", "gen_ai.user", "llm.user"),
        "ours / semconv / semconv, old / OpenLLMetry",
        resource_too=True,
    ),
    Read(
        "sessionId",
        ("llm_usage.session_id", "session.id", "gen_ai.conversation.id"),
        "ours / semconv / semconv",
        resource_too=True,
    ),
    Read("taskType", ("llm_usage.task_type",), "ours", resource_too=True),
)
READ_BY_FIELD = {read.field: read for read in READS}

# gen_ai.operation.name (or OpenLLMetry's llm.request.type) of a model call; any other operation
# (invoke_agent, execute_tool, create_agent, invoke_workflow…) wraps calls and would count them twice.
OPERATIONS = ("gen_ai.operation.name", "llm.request.type")
CALL_OPERATIONS = frozenset(
    {"chat", "text_completion", "generate_content", "embeddings", "completion", "embedding", "rerank", "responses"}
)

# gen_ai.provider.name / gen_ai.system values (lower-cased) → genai-prices provider ids; others pass as given.
PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "gcp.vertex_ai": "google",
    "gemini": "google",
    "vertex_ai": "google",
    "google": "google",
    "aws.bedrock": "aws",
    "az.ai.openai": "azure",
    "azure.ai.openai": "azure",
    "az.ai.inference": "azure",
    "azure.ai.inference": "azure",
    "cohere": "cohere",
    "deepseek": "deepseek",
    "groq": "groq",
    "mistral_ai": "mistral",
    "mistralai": "mistral",
    "perplexity": "perplexity",
    "x_ai": "x-ai",
    "xai": "x-ai",
    "together": "together",
    "fireworks": "fireworks",
}

FIRST_CHUNK_EVENTS = frozenset({"gen_ai.content.completion.chunk", "llm.content.completion.chunk"})
EXCEPTION_EVENT = "exception"


def provider_id(given: str) -> str:
    """Our (genai-prices') id of a gen_ai.provider.name / gen_ai.system value."""
    name = given.strip().lower()
    return PROVIDERS.get(name, name)
