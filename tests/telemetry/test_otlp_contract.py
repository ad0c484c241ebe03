"""POST /v1/traces on a live server, with hand-built OTLP requests: what is stored from each span, JSON and
gzip, the non-GenAI spans ignored and counted, partial_success for the spans refused (and why), and the
statuses exporters act on (400, 401, 403, 413, 429 / 503 with Retry-After)."""

from __future__ import annotations

import gzip
import json
import logging
import re
import secrets
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from dependency_injector import providers
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from sqlalchemy.ext.asyncio import AsyncEngine

from modules.core.principal import Principal, Scope
from service.app import create_app
from service.config import Settings
from service.container import ApplicationContainer
from service.context import provide
from tests.live_server import LiveServer, LiveWorkspace, committed_container, free_port, live_workspace, serving
from tests.telemetry.exporting import exporting, otlp_exporter, stored_events
from tests.telemetry.payloads import (
    CHAT_ATTRIBUTES,
    ENDED_NS,
    JSON,
    PROTOBUF,
    as_json,
    export_request,
    gzipped,
    span,
)


@pytest.fixture(scope="module")
def server(engine: AsyncEngine) -> Iterator[LiveServer]:
    with serving(engine) as live:
        yield live


@pytest.fixture
async def workspace(engine: AsyncEngine) -> AsyncIterator[LiveWorkspace]:
    async with live_workspace(engine) as created:
        yield created


def post(server: LiveServer, key: str | None, body: bytes, headers: dict[str, str]) -> httpx.Response:
    auth = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{server.url}/v1/traces", content=body, headers={**auth, **headers}, timeout=30)


def partial_success(response: httpx.Response) -> tuple[int, str]:
    assert response.status_code == 200, response.content
    if response.headers["content-type"] == "application/json":
        found = json.loads(response.content).get("partialSuccess", {})
        return int(found.get("rejectedSpans", 0)), found.get("errorMessage", "")
    decoded = ExportTraceServiceResponse.FromString(response.content)
    return decoded.partial_success.rejected_spans, decoded.partial_success.error_message


def status_of(response: httpx.Response) -> tuple[int, int, str]:
    """HTTP status, google.rpc.Status code and message of a refusal."""
    if response.headers["content-type"] == "application/json":
        body = json.loads(response.content)
        return response.status_code, body["code"], body["message"]
    status = Status.FromString(response.content)
    return response.status_code, status.code, status.message


def spans_counted(server: LiveServer) -> dict[str, float]:
    metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    found = {}
    for line in metrics.splitlines():
        if line.startswith("llm_usage_otlp_spans_total{"):
            labels, value = line.rsplit(" ", 1)
            found[labels.split('"')[1]] = float(value)
    return found


async def test_a_json_export_stores_its_genai_calls_and_ignores_the_other_spans(
    server: LiveServer, workspace: LiveWorkspace
):
    before = spans_counted(server)
    first_chunk = Span.Event(name="gen_ai.content.completion.chunk", time_unix_nano=ENDED_NS - 900 * 10**6)
    request = export_request(
        span(
            1,
            {
                **CHAT_ATTRIBUTES,
                "user.id": "alice",
                "session.id": "conversation-7",
                "llm_usage.task_type": "support",
                "llm_usage.tag.feature": "search",
                "gen_ai.request.stream": True,
            },
            events=[first_chunk],
        ),
        span(2, {"http.request.method": "POST", "url.full": "https://api.openai.com/v1/chat/completions"}),
        span(3, {**CHAT_ATTRIBUTES, "gen_ai.operation.name": "invoke_agent"}),  # wraps span 1: never counted twice
        span(4, {**CHAT_ATTRIBUTES, "error.type": "timeout"}, duration_ms=30_000, error="Request timed out."),
        resource={"service.name": "chat-backend", "llm_usage.tag.team": "growth"},
    )
    response = post(server, workspace.key, json.dumps(as_json(request)).encode(), JSON)
    assert (response.status_code, response.headers["content-type"], response.content) == (
        200,
        "application/json",
        b"{}",
    )

    events = stored_events(server, workspace.key, workspace.slug)
    common = {
        "provider": "openai",
        "model": "gpt-4o-2024-08-06",
        "catalogueModel": "gpt-4o",
        "promptTokens": 1000,
        "completionTokens": 100,
        "totalTokens": 1100,
        "cachedPromptTokens": 400,
        "cacheWriteTokens": 0,
        "reasoningTokens": 0,
        "audioTokens": 0,
        "costUsd": "0.003",
        "costSource": "CATALOG",
        "occurredAt": "2026-11-20T10:00:00+00:00",
    }
    assert events == [
        {
            **common,
            "requestId": f"otel:{'0' * 31}1:{'0' * 15}1",
            "durationMs": 1200,
            "timeToFirstTokenMs": 300,
            "status": "SUCCESS",
            "errorType": None,
            "errorMessage": None,
            "userId": "alice",
            "sessionId": "conversation-7",
            "taskType": "support",
            "tags": {"service.name": "chat-backend", "team": "growth", "feature": "search"},
            "streamed": True,
        },
        {
            **common,
            "requestId": f"otel:{'0' * 31}1:{'0' * 15}4",
            "durationMs": 30000,
            "timeToFirstTokenMs": None,
            "status": "ERROR",
            "errorType": "timeout",
            "errorMessage": "Request timed out.",
            "userId": None,
            "sessionId": None,
            "taskType": None,
            "tags": {"service.name": "chat-backend", "team": "growth"},
            "streamed": None,
        },
    ]
    after = spans_counted(server)
    assert {k: after.get(k, 0) - before.get(k, 0) for k in ("stored", "ignored", "rejected")} == {
        "stored": 2,
        "ignored": 2,
        "rejected": 0,
    }


async def test_an_export_sent_again_is_a_duplicate_never_a_double(server: LiveServer, workspace: LiveWorkspace):
    body = export_request(span(1, CHAT_ATTRIBUTES), span(2, CHAT_ATTRIBUTES)).SerializeToString()
    assert partial_success(post(server, workspace.key, body, PROTOBUF)) == (0, "")
    before = spans_counted(server)
    assert partial_success(post(server, workspace.key, body, PROTOBUF)) == (0, "")
    assert [e["requestId"][-3:] for e in stored_events(server, workspace.key, workspace.slug)] == ["001", "002"]
    assert spans_counted(server)["duplicate"] - before.get("duplicate", 0) == 2


async def test_a_gzipped_protobuf_export_is_read(server: LiveServer, workspace: LiveWorkspace):
    body = gzipped(export_request(span(1, {**CHAT_ATTRIBUTES, "gen_ai.response.time_to_first_chunk": 0.25})))
    assert partial_success(post(server, workspace.key, body, {**PROTOBUF, "Content-Encoding": "gzip"})) == (0, "")
    events = stored_events(server, workspace.key, workspace.slug)
    assert [(e["promptTokens"], e["timeToFirstTokenMs"], e["costUsd"]) for e in events] == [(1000, 250, "0.003")]


async def test_a_lone_surrogate_or_a_nul_rejects_that_span_and_the_rest_are_stored(
    server: LiveServer, workspace: LiveWorkspace
):
    document = as_json(
        export_request(
            span(1, {**CHAT_ATTRIBUTES, "user.id": "SURROGATE"}),
            span(2, {**CHAT_ATTRIBUTES, "session.id": "a\x00b"}),
            span(3, CHAT_ATTRIBUTES),
        )
    )
    body = json.dumps(document).replace("SURROGATE", "\\ud800").encode()  # valid JSON, not Unicode text
    rejected, message = partial_success(post(server, workspace.key, body, JSON))
    trace = "0" * 31 + "1"
    assert (rejected, message) == (
        2,
        f"2 span(s) rejected: span {trace}/{'0' * 15}1: one of its strings holds a lone surrogate (not Unicode "
        f"text); span {trace}/{'0' * 15}2: attribute session.id (sessionId) must not contain NUL characters",
    )
    assert [e["requestId"] for e in stored_events(server, workspace.key, workspace.slug)] == [
        f"otel:{trace}:{'0' * 15}3"
    ]


async def test_counts_that_are_not_token_counts_reject_the_span_naming_the_attribute(
    server: LiveServer, workspace: LiveWorkspace
):
    body = export_request(
        span(1, {**CHAT_ATTRIBUTES, "gen_ai.usage.input_tokens": "many"}),
        span(2, {**CHAT_ATTRIBUTES, "gen_ai.usage.output_tokens": -5}),
        span(3, {**CHAT_ATTRIBUTES, "gen_ai.usage.cache_read.input_tokens": 2.5}),
        span(4, {**CHAT_ATTRIBUTES, "gen_ai.usage.total_tokens": 50}),
        span(5, CHAT_ATTRIBUTES),
    ).SerializeToString()
    rejected, message = partial_success(post(server, workspace.key, body, PROTOBUF))
    ids = [f"{'0' * 31}1/{'0' * 15}{n}" for n in range(1, 5)]
    assert (rejected, message.split("; span ")) == (
        4,
        [
            f"4 span(s) rejected: span {ids[0]}: attribute gen_ai.usage.input_tokens: must be a whole number of "
            "tokens (got 'many')",
            f"{ids[1]}: attribute gen_ai.usage.output_tokens: must be a whole number of tokens from 0 to 2147483647 "
            "(got -5.0)",
            f"{ids[2]}: attribute gen_ai.usage.cache_read.input_tokens: must be a whole number of tokens from 0 to "
            "2147483647 (got 2.5)",
            f"{ids[3]}: attribute gen_ai.usage.total_tokens (totalTokens) (50) is less than promptTokens + "
            "completionTokens (1100)",
        ],
    )
    assert len(stored_events(server, workspace.key, workspace.slug)) == 1


BAD_BODIES = [
    (b"\xff\xff\xff", PROTOBUF, "body: is not an OTLP ExportTraceServiceRequest in protobuf"),
    (
        export_request(span(1, {**CHAT_ATTRIBUTES, "user.id": "ZZZZ"}))
        .SerializeToString()
        .replace(b"ZZZZ", b"\xed\xa0\x80Z"),
        PROTOBUF,
        "body: is not an OTLP ExportTraceServiceRequest in protobuf",  # a string that is not UTF-8
    ),
    (b"not json", JSON, "body: is not JSON (JSONDecodeError)"),
    (b"[1, 2]", JSON, "body: is not an OTLP ExportTraceServiceRequest in JSON (not an object)"),
    (b'{"resourceSpans": 5}', JSON, "body: is not an OTLP ExportTraceServiceRequest in JSON"),
    (b"{}", {"Content-Type": "text/plain"}, "Content-Type: must be application/x-protobuf or application/json"),
    (b"plain", {**PROTOBUF, "Content-Encoding": "gzip"}, "body: is not valid gzip data"),
    (b"{}", {**JSON, "Content-Encoding": "br"}, "Content-Encoding: must be gzip, deflate or none, not 'br'"),
]


@pytest.mark.parametrize(("body", "headers", "message"), BAD_BODIES)
async def test_a_body_that_is_not_otlp_is_a_400(server: LiveServer, workspace: LiveWorkspace, body, headers, message):
    response = post(server, workspace.key, body, headers)
    status, code, said = status_of(response)
    assert (status, code) == (400, 3)  # google.rpc.Code INVALID_ARGUMENT
    assert said.startswith(message), said
    assert stored_events(server, workspace.key, workspace.slug) == []


async def test_a_body_over_the_limit_once_decompressed_is_a_413(server: LiveServer, workspace: LiveWorkspace):
    bomb = gzip.compress(b"\x00" * (6 * 1024 * 1024))  # 6 KiB on the wire
    response = post(server, workspace.key, bomb, {**PROTOBUF, "Content-Encoding": "gzip"})
    assert status_of(response) == (413, 3, "the request body is larger than 5242880 bytes once decompressed")


async def test_keys_are_refused_with_401_and_403(engine: AsyncEngine, server: LiveServer, workspace: LiveWorkspace):
    access = await provide(committed_container(engine).access.service())
    reader = await access.create(Principal.system(), workspace_ref=workspace.slug, name="r", scopes=[Scope.READ])
    body = export_request(span(1, CHAT_ATTRIBUTES)).SerializeToString()
    other = {**PROTOBUF, "X-LLM-Usage-Workspace": "someone-else"}
    assert status_of(post(server, None, body, PROTOBUF)) == (401, 16, "send an API key: 'Authorization: Bearer llmu_…'")
    assert status_of(post(server, "llmu_nonsense", body, PROTOBUF))[:2] == (401, 16)
    assert status_of(post(server, reader.secret, body, PROTOBUF)) == (403, 7, "this key lacks the INGEST scope")
    assert status_of(post(server, workspace.key, body, other)) == (
        403,
        7,
        "this key does not give access to that workspace",
    )
    assert stored_events(server, workspace.key, workspace.slug) == []


async def test_an_instance_key_names_its_workspace_in_a_header(
    engine: AsyncEngine, server: LiveServer, workspace: LiveWorkspace
):
    access = await provide(committed_container(engine).access.service())
    admin = await access.create(Principal.system(), workspace_ref=None, name="ops", scopes=[Scope.ADMIN])
    body = export_request(span(1, CHAT_ATTRIBUTES)).SerializeToString()
    assert status_of(post(server, admin.secret, body, PROTOBUF)) == (
        400,
        3,
        "x-llm-usage-workspace: an instance-wide key must name the workspace in this header",
    )
    named = {**PROTOBUF, "X-LLM-Usage-Workspace": workspace.slug}
    assert partial_success(post(server, admin.secret, body, named)) == (0, "")
    assert len(stored_events(server, workspace.key, workspace.slug)) == 1


async def test_over_the_rate_limit_is_a_429_with_retry_after(engine: AsyncEngine, workspace: LiveWorkspace):
    body = export_request(span(1, CHAT_ATTRIBUTES)).SerializeToString()
    with serving(engine, rate_limit_per_second=0.1) as limited:  # one request, then one per 10 s
        assert partial_success(post(limited, workspace.key, body, PROTOBUF)) == (0, "")
        refused = post(limited, workspace.key, body, PROTOBUF)
    status, code, message = status_of(refused)
    assert (status, code) == (429, 8), message
    assert 1 <= int(refused.headers["Retry-After"]) <= 10  # whole seconds, rounded up
    assert message.startswith("too many requests for this key: retry in ")


async def test_an_unreachable_database_is_a_503_with_retry_after():
    container = ApplicationContainer()
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"
    container.settings.override(providers.Object(Settings(database_url=dead)))
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://llm-usage.test") as http:
        body = export_request(span(1, CHAT_ATTRIBUTES)).SerializeToString()
        response = await http.post(
            "/v1/traces",
            content=body,
            headers={**PROTOBUF, "Authorization": f"Bearer llmu_{secrets.token_urlsafe(32)}"},
        )
    assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
    assert Status.FromString(response.content).code == 14  # UNAVAILABLE: exporters retry


async def test_the_real_exporter_waits_out_retry_after_and_nothing_is_lost(
    engine: AsyncEngine, workspace: LiveWorkspace, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING, logger="opentelemetry")
    with (
        serving(engine, rate_limit_per_second=0.5) as limited,
        exporting(otlp_exporter(limited, workspace.key)) as export,
    ):
        tracer = export.provider.get_tracer("app")
        for number in range(2):  # the second export is refused (429, Retry-After: 2), then sent again
            with tracer.start_as_current_span("chat gpt-4o") as call:
                call.set_attributes({**CHAT_ATTRIBUTES, "llm_usage.task_type": f"call-{number}"})
        events = stored_events(limited, workspace.admin_key, workspace.slug)  # a key of its own rate
    assert [(e["taskType"], e["costUsd"]) for e in events] == [("call-0", "0.003"), ("call-1", "0.003")]
    waits = [r.getMessage() for r in caplog.records if "Transient error" in r.getMessage()]
    assert len(waits) == 1 and re.search(r"retrying in [12]\.00s", waits[0]), waits  # Retry-After, whole seconds
