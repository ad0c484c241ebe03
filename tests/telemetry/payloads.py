"""OTLP export requests built with the official protobuf classes (or as OTLP/JSON), spans at fixed moments."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

ENDED = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
ENDED_NS = int(ENDED.timestamp()) * 10**9
PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}

# A chat call as the GenAI conventions describe it: 1,000 input tokens (400 cached), 100 output.
CHAT_ATTRIBUTES: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.usage.input_tokens": 1000,
    "gen_ai.usage.output_tokens": 100,
    "gen_ai.usage.cache_read.input_tokens": 400,
}


def any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list | tuple):
        found = AnyValue()
        found.array_value.values.extend(any_value(item) for item in value)
        return found
    return AnyValue(string_value=value)


def key_values(attributes: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=any_value(value)) for key, value in attributes.items()]


def span(
    number: int,
    attributes: dict[str, Any],
    *,
    trace: int = 1,
    duration_ms: int = 1200,
    error: str | None = None,
    events: list[Span.Event] | None = None,
) -> Span:
    """Span `number` of trace `trace`, ending at ENDED after `duration_ms`."""
    built = Span(
        trace_id=trace.to_bytes(16, "big"),
        span_id=number.to_bytes(8, "big"),
        name=f"span {number}",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=ENDED_NS - duration_ms * 10**6,
        end_time_unix_nano=ENDED_NS,
        attributes=key_values(attributes),
        events=events or [],
    )
    if error is not None:
        built.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message=error))
    return built


def export_request(*spans: Span, resource: dict[str, Any] | None = None) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(key_values(resource or {"service.name": "chat-backend"}))
    resource_spans.scope_spans.add().spans.extend(spans)
    return request


def as_json(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """OTLP/JSON: protobuf's JSON mapping, with trace and span ids in hex as the OTLP spec says."""
    document = json_format.MessageToDict(request)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for found, original in zip(
                scope_spans["spans"], request.resource_spans[0].scope_spans[0].spans, strict=False
            ):
                found["traceId"] = original.trace_id.hex()
                found["spanId"] = original.span_id.hex()
    return document


def gzipped(request: ExportTraceServiceRequest) -> bytes:
    return gzip.compress(request.SerializeToString())
