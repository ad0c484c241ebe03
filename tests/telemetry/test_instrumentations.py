"""The instrumentations teams already use, around the official SDKs calling a fake upstream, exporting through
the real OTLP/HTTP exporter to a live server: their spans stored as events with exact tokens and cost."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anthropic
import openai
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor as OfficialOpenAIInstrumentor
from opentelemetry.instrumentation.openai import OpenAIInstrumentor as OpenLLMetryOpenAIInstrumentor
from opentelemetry.sdk.trace.export import SpanExportResult
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.live_server import LiveServer, LiveWorkspace, live_workspace
from tests.telemetry.exporting import exporting, otlp_exporter, stored_events
from tests.telemetry.fake_upstream import fake_upstream


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with fake_upstream() as url:
        yield url


@pytest.fixture
async def workspace(engine: AsyncEngine) -> AsyncIterator[LiveWorkspace]:
    async with live_workspace(engine) as created:
        yield created


def openai_calls(upstream: str) -> None:
    """One chat completion that succeeds, one the upstream refuses with 429."""
    client = openai.OpenAI(base_url=f"{upstream}/v1", api_key="sk-fake", max_retries=0)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], user="alice")
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o-rate-limited", messages=[{"role": "user", "content": "Hi"}])


def common(event: dict) -> dict:
    return {
        k: event[k]
        for k in (
            "provider",
            "model",
            "catalogueModel",
            "promptTokens",
            "completionTokens",
            "cachedPromptTokens",
            "cacheWriteTokens",
            "reasoningTokens",
            "costUsd",
            "costSource",
            "status",
            "errorType",
            "tags",
        )
    }


GPT_4O_CALL = {
    "provider": "openai",
    "model": "gpt-4o-2024-08-06",
    "catalogueModel": "gpt-4o",
    "promptTokens": 1000,
    "completionTokens": 100,
    "cachedPromptTokens": 400,
    "cacheWriteTokens": 0,
    "reasoningTokens": 0,
    # 600 x $2.50 + 400 x $1.25 (cached) + 100 x $10 per million tokens
    "costUsd": "0.003",
    "costSource": "CATALOG",
    "status": "SUCCESS",
    "errorType": None,
    "tags": {"service.name": "chat-backend"},
}


def refused_call(error_type: str) -> dict:
    return {
        **GPT_4O_CALL,
        "model": "gpt-4o-rate-limited",
        "catalogueModel": None,
        "promptTokens": 0,
        "completionTokens": 0,
        "cachedPromptTokens": 0,
        "costUsd": None,
        "costSource": "UNKNOWN_MODEL",
        "status": "ERROR",
        "errorType": error_type,
    }


async def test_the_official_openai_instrumentation_is_stored_with_exact_tokens_and_cost(
    live_server: LiveServer, workspace: LiveWorkspace, upstream: str
):
    instrumentor = OfficialOpenAIInstrumentor()
    with exporting(otlp_exporter(live_server, workspace.key)) as export:
        instrumentor.instrument(tracer_provider=export.provider)
        try:
            openai_calls(upstream)
        finally:
            instrumentor.uninstrument()
        spans = export.kept.get_finished_spans()
        events = stored_events(live_server, workspace.key, workspace.slug)
        assert [common(e) for e in events] == [GPT_4O_CALL, refused_call("openai.RateLimitError")]
        first = spans[0]
        assert events[0]["requestId"] == f"otel:{first.context.trace_id:032x}:{first.context.span_id:016x}"
        assert events[0]["durationMs"] == round((first.end_time - first.start_time) / 1e6)
        assert events[1]["errorMessage"] == "Error code: 429 - Rate limit reached"

        assert export.exporter.export(spans) is SpanExportResult.SUCCESS  # the same export, sent again
        assert len(stored_events(live_server, workspace.key, workspace.slug)) == 2


async def test_openllmetry_openai_is_stored_with_its_own_attribute_names(
    live_server: LiveServer, workspace: LiveWorkspace, upstream: str
):
    instrumentor = OpenLLMetryOpenAIInstrumentor()
    with exporting(otlp_exporter(live_server, workspace.key)) as export:
        instrumentor.instrument(tracer_provider=export.provider)
        try:
            openai_calls(upstream)
        finally:
            instrumentor.uninstrument()
    events = stored_events(live_server, workspace.key, workspace.slug)
    assert [common(e) for e in events] == [GPT_4O_CALL, refused_call("RateLimitError")]
    assert [(e["userId"], e["streamed"]) for e in events] == [("alice", False), (None, False)]  # gen_ai.user


async def test_openllmetry_anthropic_cache_reads_and_writes_are_priced(
    live_server: LiveServer, workspace: LiveWorkspace, upstream: str
):
    instrumentor = AnthropicInstrumentor()
    with exporting(otlp_exporter(live_server, workspace.key), {"service.name": "support-bot"}) as export:
        instrumentor.instrument(tracer_provider=export.provider)
        try:
            client = anthropic.Anthropic(base_url=upstream, api_key="sk-ant-fake", max_retries=0)
            client.messages.create(
                model="claude-3-5-haiku-latest", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
            )
        finally:
            instrumentor.uninstrument()
    events = stored_events(live_server, workspace.key, workspace.slug)
    assert [common(e) for e in events] == [
        {
            "provider": "anthropic",
            "model": "claude-3-5-haiku-20241022",
            "catalogueModel": "claude-3-5-haiku-latest",
            "promptTokens": 1800,  # 500 uncached + 1,000 read from cache + 300 written to it
            "completionTokens": 100,
            "cachedPromptTokens": 1000,
            "cacheWriteTokens": 300,
            "reasoningTokens": 0,
            # 500 x $0.80 + 1,000 x $0.08 + 300 x $1 + 100 x $4 per million tokens
            "costUsd": "0.00118",
            "costSource": "CATALOG",
            "status": "SUCCESS",
            "errorType": None,
            "tags": {"service.name": "support-bot"},
        }
    ]


async def test_the_two_environment_variables_are_all_it_takes(
    live_server: LiveServer, workspace: LiveWorkspace, upstream: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", live_server.url)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"Authorization=Bearer%20{workspace.key}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
    instrumentor = OfficialOpenAIInstrumentor()
    with exporting(OTLPSpanExporter()) as export:
        instrumentor.instrument(tracer_provider=export.provider)
        try:
            openai_calls(upstream)
        finally:
            instrumentor.uninstrument()
    events = stored_events(live_server, workspace.key, workspace.slug)
    assert [(e["model"], e["costUsd"]) for e in events] == [
        ("gpt-4o-2024-08-06", "0.003"),
        ("gpt-4o-rate-limited", None),
    ]


@pytest.mark.parametrize("instrumentor_class", [OfficialOpenAIInstrumentor, OpenLLMetryOpenAIInstrumentor])
async def test_a_streamed_call_keeps_its_time_to_first_token(
    live_server: LiveServer, workspace: LiveWorkspace, upstream: str, instrumentor_class
):
    """The official instrumentation says it in gen_ai.response.time_to_first_chunk, OpenLLMetry by a
    gen_ai.content.completion.chunk event per chunk: both become timeToFirstTokenMs."""
    instrumentor = instrumentor_class()
    with exporting(otlp_exporter(live_server, workspace.key)) as export:
        instrumentor.instrument(tracer_provider=export.provider)
        try:
            client = openai.OpenAI(base_url=f"{upstream}/v1", api_key="sk-fake", max_retries=0)
            stream = client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "Hi"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Hello."
        finally:
            instrumentor.uninstrument()
        (span,) = export.kept.get_finished_spans()
    if "gen_ai.response.time_to_first_chunk" in span.attributes:
        expected_ttft = round(span.attributes["gen_ai.response.time_to_first_chunk"] * 1000)
    else:
        expected_ttft = round((span.events[0].timestamp - span.start_time) / 1e6)
    (event,) = stored_events(live_server, workspace.key, workspace.slug)
    assert common(event) == GPT_4O_CALL
    assert (event["streamed"], event["timeToFirstTokenMs"], event["durationMs"]) == (
        True,
        expected_ttft,
        round((span.end_time - span.start_time) / 1e6),
    )
    assert 0 < event["timeToFirstTokenMs"] < event["durationMs"]
