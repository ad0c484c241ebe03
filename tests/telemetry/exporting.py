"""What the tests of /v1/traces share: a tracer provider exporting through the real OTLP/HTTP exporter to a
live server (and keeping the spans, to send the same export again), and the stored events, read over GraphQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.live_server import LiveServer

EVENT_FIELDS = (
    "requestId provider model catalogueModel promptTokens completionTokens totalTokens cachedPromptTokens "
    "cacheWriteTokens reasoningTokens audioTokens costUsd costSource durationMs timeToFirstTokenMs status errorType "
    "errorMessage userId sessionId taskType tags streamed occurredAt"
)


@dataclass
class Exporting:
    provider: TracerProvider
    exporter: OTLPSpanExporter
    kept: InMemorySpanExporter


@contextlib.contextmanager
def exporting(exporter: OTLPSpanExporter, resource: dict[str, Any] | None = None) -> Iterator[Exporting]:
    """A tracer provider whose every finished span goes to `exporter` at once, and is kept in memory."""
    kept = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create(resource or {"service.name": "chat-backend"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.add_span_processor(SimpleSpanProcessor(kept))
    try:
        yield Exporting(provider, exporter, kept)
    finally:
        provider.shutdown()


def otlp_exporter(server: LiveServer, key: str, **options: Any) -> OTLPSpanExporter:
    return OTLPSpanExporter(
        endpoint=f"{server.url}/v1/traces", headers={"Authorization": f"Bearer {key}"}, timeout=10, **options
    )


def stored_events(server: LiveServer, key: str, slug: str) -> list[dict[str, Any]]:
    """The workspace's events, oldest first."""
    query = (
        f'{{ usageEvents(filter: {{workspaceId: "{slug}"}}, first: 500) {{ edges {{ node {{ {EVENT_FIELDS} }} }} }} }}'
    )
    response = httpx.post(
        f"{server.url}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    data = response.json()
    assert "errors" not in data, data
    return [edge["node"] for edge in reversed(data["data"]["usageEvents"]["edges"])]
