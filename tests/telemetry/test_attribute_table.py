"""The attribute table, one test per instrumentation: the attributes each one sets on a span (recorded from
the library, or from its source where it is not a dev dependency) read into the same usage draft."""

from __future__ import annotations

from pathlib import Path

import pytest

from modules.telemetry import PROVIDERS, READS
from modules.telemetry.spans import UnreadableSpan, read_span
from modules.usage import UsageDraft, UsageStatus
from tests.telemetry.payloads import ENDED, span

README = Path(__file__).parents[2] / "README.md"
RESOURCE = {"service.name": "chat-backend"}
REQUEST_ID = f"otel:{'0' * 31}1:{'0' * 15}1"


def draft(**fields) -> UsageDraft:
    base = {
        "workspace_id": "acme",
        "provider": "openai",
        "model": "gpt-4o-2024-08-06",
        "request_id": REQUEST_ID,
        "occurred_at": ENDED,
        "duration_ms": 1200,
        "status": UsageStatus.SUCCESS,
        "tags": {"service.name": "chat-backend"},
    }
    return UsageDraft(**{**base, **fields})


def read(attributes: dict, **options) -> UsageDraft | None:
    found = read_span(span(1, attributes, **options), RESOURCE, "acme")
    return None if found is None else found.draft


def test_the_official_openai_instrumentation():
    """opentelemetry-instrumentation-genai-openai 1.3b0 (formerly -openai-v2), as recorded around the SDK."""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "server.address": "127.0.0.1",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.response.id": "chatcmpl-otlp-1",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 100,
        "gen_ai.usage.cache_read.input_tokens": 400,
        "gen_ai.response.time_to_first_chunk": 0.2504,
        "gen_ai.request.stream": True,
    }
    assert read(attributes) == draft(
        prompt_tokens=1000, completion_tokens=100, cached_prompt_tokens=400, time_to_first_token_ms=250, streamed=True
    )


def test_openllmetry_openai():
    """Traceloop's opentelemetry-instrumentation-openai 0.62, as recorded around the SDK."""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.user": "alice",
        "gen_ai.is_streaming": False,
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.usage.total_tokens": 1100,
        "gen_ai.usage.output_tokens": 100,
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.cache_read.input_tokens": 400,
        "gen_ai.usage.reasoning_tokens": 64,
    }
    assert read(attributes) == draft(
        prompt_tokens=1000,
        completion_tokens=100,
        total_tokens=1100,
        cached_prompt_tokens=400,
        reasoning_tokens=64,
        user_id="alice",
        streamed=False,
    )


def test_openllmetry_before_the_1_37_conventions():
    """OpenLLMetry's older names: gen_ai.system capitalised, prompt/completion tokens, llm.request.type."""
    attributes = {
        "llm.request.type": "chat",
        "gen_ai.system": "OpenAI",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.usage.prompt_tokens": 1000,
        "gen_ai.usage.completion_tokens": 100,
        "llm.usage.total_tokens": 1100,
        "gen_ai.usage.cache_read_input_tokens": 400,
        "llm.is_streaming": "false",
        "llm.user": "bob",
    }
    assert read(attributes) == draft(
        prompt_tokens=1000,
        completion_tokens=100,
        total_tokens=1100,
        cached_prompt_tokens=400,
        streamed=False,
        user_id="bob",
    )


def test_openllmetry_anthropic():
    """opentelemetry-instrumentation-anthropic 0.62: input_tokens already include the cache reads and writes."""
    attributes = {
        "gen_ai.provider.name": "anthropic",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "claude-3-5-haiku-latest",
        "gen_ai.response.model": "claude-3-5-haiku-20241022",
        "gen_ai.usage.input_tokens": 1800,
        "gen_ai.usage.output_tokens": 100,
        "gen_ai.usage.total_tokens": 1900,
        "gen_ai.usage.cache_read.input_tokens": 1000,
        "gen_ai.usage.cache_creation.input_tokens": 300,
    }
    assert read(attributes) == draft(
        provider="anthropic",
        model="claude-3-5-haiku-20241022",
        prompt_tokens=1800,
        completion_tokens=100,
        total_tokens=1900,
        cached_prompt_tokens=1000,
        cache_write_tokens=300,
    )


def test_input_tokens_without_the_cached_parts_get_them_added():
    """An instrumentation passing Anthropic's own usage through reports input_tokens without the cache (500 of
    1,800): a cache part larger than the whole tells it, and the parts are added back."""
    attributes = {
        "gen_ai.system": "anthropic",
        "gen_ai.response.model": "claude-3-5-haiku-20241022",
        "gen_ai.usage.input_tokens": 500,
        "gen_ai.usage.output_tokens": 100,
        "gen_ai.usage.cache_read.input_tokens": 1000,
        "gen_ai.usage.cache_creation_input_tokens": 300,
    }
    assert read(attributes) == draft(
        provider="anthropic",
        model="claude-3-5-haiku-20241022",
        prompt_tokens=1800,
        completion_tokens=100,
        cached_prompt_tokens=1000,
        cache_write_tokens=300,
    )


def test_openlit():
    """OpenLIT (from its semcov): gen_ai.system, the time to first token in seconds, reasoning tokens."""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "o3-mini",
        "gen_ai.response.model": "o3-mini-2025-01-31",
        "gen_ai.usage.input_tokens": 200,
        "gen_ai.usage.output_tokens": 500,
        "gen_ai.usage.reasoning_tokens": 320,
        "gen_ai.server.time_to_first_token": 1.5,
        "gen_ai.usage.cost": 0.0024,  # its own price: ours is read from the catalogue
    }
    assert read(attributes) == draft(
        model="o3-mini-2025-01-31",
        prompt_tokens=200,
        completion_tokens=500,
        reasoning_tokens=320,
        time_to_first_token_ms=1500,
    )


def test_opentelemetry_util_genai_audio_and_cache_writes():
    """opentelemetry-util-genai's own names: cache_write.input_tokens, audio input and output tokens."""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.response.model": "gpt-4o-audio-preview",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 300,
        "gen_ai.usage.cache_write.input_tokens": 200,
        "gen_ai.usage.audio.input_tokens": 700,
        "gen_ai.usage.audio.output_tokens": 250,
    }
    assert read(attributes) == draft(
        model="gpt-4o-audio-preview",
        prompt_tokens=1000,
        completion_tokens=300,
        cache_write_tokens=200,
        usage_kinds={"input_audio_tokens": 700, "output_audio_tokens": 250},
    )


def test_our_own_attributes_win_and_the_resource_gives_defaults():
    attributes = {
        "gen_ai.provider.name": "openai",
        "gen_ai.response.model": "gpt-4o",
        "user.id": "alice",
        "llm_usage.user_id": "customer-42",
        "gen_ai.conversation.id": "conv-1",
        "llm_usage.tag.feature": "search",
    }
    found = read_span(
        span(1, attributes), {**RESOURCE, "llm_usage.task_type": "triage", "llm_usage.tag.team": "a"}, "acme"
    )
    assert found is not None
    assert (found.draft.user_id, found.draft.session_id, found.draft.task_type, found.draft.tags) == (
        "customer-42",
        "conv-1",
        "triage",
        {"service.name": "chat-backend", "team": "a", "feature": "search"},
    )
    assert found.sources == {
        "provider": "gen_ai.provider.name",
        "model": "gen_ai.response.model",
        "userId": "llm_usage.user_id",
        "sessionId": "gen_ai.conversation.id",
        "taskType": "llm_usage.task_type",
    }


def test_an_error_takes_its_type_from_the_exception_event_when_error_type_is_missing():
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    exception = Span.Event(
        name="exception",
        attributes=[KeyValue(key="exception.type", value=AnyValue(string_value="openai.APITimeoutError"))],
    )
    found = read({"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"}, error="", events=[exception])
    assert found == draft(
        model="gpt-4o",
        prompt_tokens=0,
        completion_tokens=0,
        status=UsageStatus.ERROR,
        error_type="openai.APITimeoutError",
    )


@pytest.mark.parametrize(
    "attributes",
    [
        {"http.request.method": "POST"},  # not GenAI at all
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.provider.name": "openai", "gen_ai.usage.input_tokens": 9},
        {"gen_ai.operation.name": "execute_tool", "gen_ai.provider.name": "openai"},
        {"gen_ai.request.model": "gpt-4o"},  # no provider: nothing to price it by
    ],
)
def test_spans_that_are_not_model_calls_are_ignored(attributes):
    assert read(attributes) is None


def test_embeddings_are_calls_without_output_tokens():
    attributes = {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "text-embedding-3-small",
        "gen_ai.usage.input_tokens": 5000,
    }
    assert read(attributes) == draft(model="text-embedding-3-small", prompt_tokens=5000, completion_tokens=0)


def test_a_genai_span_without_ids_cannot_be_an_event():
    from tests.telemetry.payloads import span as make_span

    nameless = make_span(1, {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"}, trace=0)
    with pytest.raises(UnreadableSpan, match="a trace or span id of zeros is invalid"):
        read_span(nameless, RESOURCE, "acme")


@pytest.mark.parametrize(
    ("given", "ours"),
    [
        ("openai", "openai"),
        ("OpenAI", "openai"),
        ("anthropic", "anthropic"),
        ("gcp.gemini", "google"),
        ("gcp.vertex_ai", "google"),
        ("aws.bedrock", "aws"),
        ("az.ai.openai", "azure"),
        ("azure.ai.openai", "azure"),
        ("mistral_ai", "mistral"),
        ("x_ai", "x-ai"),
        ("ibm.watsonx.ai", "ibm.watsonx.ai"),
    ],
)
def test_provider_names_map_to_the_catalogues_ids(given, ours):
    found = read({"gen_ai.provider.name": given, "gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 1})
    assert found is not None and found.provider == ours


def test_the_readme_lists_every_attribute_read_and_every_provider_mapped():
    section = README.read_text().split("## Already on OpenTelemetry?")[1].split("\n## ")[0]
    missing = [name for entry in READS for name in entry.names if f"`{name}`" not in section]
    missing += [name for name in PROVIDERS if f"`{name}`" not in section]
    assert missing == []
