"""OTLP ingest speed: GenAI spans/s into one server process through POST /v1/traces, against the same calls
sent as trackUsageBatch in the same run (the baseline: the same ingest path, reached over GraphQL).

    .venv/bin/python bench/otlp.py           (BENCH_OTLP_SPANS=50000 calls a phase by default)

Starts an embedded PostgreSQL and `llm-usage serve` (one process, rate limit off); 4 clients send, at once,
batches of 512 (the OpenTelemetry SDK's BatchSpanProcessor default) of the same generated calls:
1. trackUsageBatch (JSON over HTTP);
2. /v1/traces, protobuf (what opentelemetry-exporter-otlp-proto-http sends by default);
3. /v1/traces, protobuf gzipped (OTEL_EXPORTER_OTLP_COMPRESSION=gzip);
4. /v1/traces, OTLP/JSON;
5. /v1/traces, protobuf, each export with as many non-GenAI spans (HTTP client spans) as GenAI ones.
The phases take turns in 5 rounds (every phase adds to the same tables, which slow as they grow). Bodies are encoded before the clock starts; every answer is checked (all stored, none rejected). Prints calls/s
of each and its ratio to trackUsageBatch, and the server's peak RSS.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from google.protobuf import json_format
from harness import until_healthy
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from modules.core.principal import Principal, Scope
from service.config import Settings
from service.container import ApplicationContainer
from service.context import provide
from service.database import start_embedded_postgres
from service.migrations import upgrade_to_head

SPANS = int(os.environ.get("BENCH_OTLP_SPANS", "50000"))
BATCH = 512
CLIENTS = 4
ROUNDS = 5
PORT = int(os.environ.get("BENCH_PORT", "8777"))
MODELS = [
    ("openai", "gpt-4o-2024-08-06"),
    ("openai", "gpt-4o-mini"),
    ("anthropic", "claude-3-5-haiku-20241022"),
    ("gcp.gemini", "gemini-2.0-flash"),
]
TRACK_BATCH = "mutation($i: [TrackUsageInput!]!) { trackUsageBatch(inputs: $i) { insertedCount } }"


def call(rng: random.Random, now: datetime, number: int) -> dict[str, Any]:
    provider, model = rng.choice(MODELS)
    prompt = rng.randrange(50, 4000)
    ended = now - timedelta(seconds=rng.randrange(3600))
    return {
        "number": number,
        "provider": provider,
        "model": model,
        "prompt": prompt,
        "completion": rng.randrange(5, 800),
        "cached": prompt // 2 if rng.random() < 0.3 else 0,
        "duration_ms": rng.randrange(100, 9000),
        "ended": ended,
        "user": f"user-{rng.randrange(5000)}",
        "session": f"s-{rng.randrange(20000)}",
    }


def as_input(item: dict[str, Any], phase: int) -> dict[str, Any]:
    provider = "google" if item["provider"] == "gcp.gemini" else item["provider"]
    return {
        "workspaceId": "w0",
        "requestId": f"p{phase}-{item['number']}",
        "provider": provider,
        "model": item["model"],
        "promptTokens": item["prompt"],
        "completionTokens": item["completion"],
        "cachedPromptTokens": item["cached"],
        "durationMs": item["duration_ms"],
        "occurredAt": item["ended"].isoformat(),
        "userId": item["user"],
        "sessionId": item["session"],
        "tags": {"service.name": "bench"},
    }


def attribute(key: str, value: str | int) -> KeyValue:
    given = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
    return KeyValue(key=key, value=given)


def as_span(item: dict[str, Any], phase: int) -> Span:
    ended = int(item["ended"].timestamp() * 1e9)
    return Span(
        trace_id=(phase << 64 | item["number"]).to_bytes(16, "big"),
        span_id=(item["number"] + 1).to_bytes(8, "big"),
        name=f"chat {item['model']}",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=ended - item["duration_ms"] * 10**6,
        end_time_unix_nano=ended,
        attributes=[
            attribute("gen_ai.operation.name", "chat"),
            attribute("gen_ai.provider.name", item["provider"]),
            attribute("gen_ai.request.model", item["model"]),
            attribute("gen_ai.response.model", item["model"]),
            attribute("gen_ai.usage.input_tokens", item["prompt"]),
            attribute("gen_ai.usage.output_tokens", item["completion"]),
            attribute("gen_ai.usage.cache_read.input_tokens", item["cached"]),
            attribute("user.id", item["user"]),
            attribute("session.id", item["session"]),
        ],
    )


def http_span(item: dict[str, Any], phase: int) -> Span:
    ended = int(item["ended"].timestamp() * 1e9)
    return Span(
        trace_id=(phase << 64 | item["number"]).to_bytes(16, "big"),
        span_id=(item["number"] + 2**40).to_bytes(8, "big"),
        name="POST",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=ended - 10**6,
        end_time_unix_nano=ended,
        attributes=[attribute("http.request.method", "POST"), attribute("url.full", "https://api.openai.com/v1")],
    )


def export_of(spans: list[Span]) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.append(attribute("service.name", "bench"))
    resource.scope_spans.add().spans.extend(spans)
    return request


def as_otlp_json(request: ExportTraceServiceRequest) -> bytes:
    document = json_format.MessageToDict(request)
    for found, span in zip(document["resourceSpans"][0]["scopeSpans"][0]["spans"],
                           request.resource_spans[0].scope_spans[0].spans, strict=True):  # fmt: skip
        found["traceId"], found["spanId"] = span.trace_id.hex(), span.span_id.hex()
    return json.dumps(document).encode()


async def prepare(url: str) -> tuple[str, str]:
    container = ApplicationContainer()
    container.settings.override(Settings(database_url=url))
    database = await provide(container.database())
    await upgrade_to_head(database.engine)
    await (await provide(container.workspaces.service())).create(Principal.system(), name="w0", slug="w0")
    access = await provide(container.access.service())
    key = (await access.create(Principal.system(), workspace_ref="w0", name="bench", scopes=[Scope.INGEST])).secret
    await provide(container.shutdown_resources())
    return url.replace("postgresql+asyncpg://", "postgresql://"), key


class PeakRss:
    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak = 0

    async def watch(self, work: Awaitable[Any]) -> Any:
        task = asyncio.ensure_future(work)
        while not task.done():
            self.peak = max(self.peak, self.process.memory_info().rss)
            await asyncio.sleep(0.05)
        return task.result()


async def timed(bodies: list[Any], send: Callable[[Any], Awaitable[None]], rss: PeakRss) -> float:
    """Seconds for CLIENTS clients to send `bodies` (each client every CLIENTS-th one)."""

    async def client(mine: list[Any]) -> None:
        for body in mine:
            await send(body)

    started = time.perf_counter()
    await rss.watch(asyncio.gather(*(client(bodies[n::CLIENTS]) for n in range(CLIENTS))))
    return time.perf_counter() - started


async def run(dsn: str, key: str) -> None:
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before measuring
        [sys.executable, "-m", "service.cli", "serve", "--port", str(PORT), "--workers", "1"],
        env={**os.environ, "DATABASE_URL": dsn, "LOG_LEVEL": "warning", "LLM_USAGE_RATE_LIMIT": "0"},
        stdout=subprocess.DEVNULL,
    )
    rss = PeakRss(psutil.Process(server.pid))
    rng = random.Random(21)
    now = datetime.now(UTC)
    calls = [call(rng, now, n) for n in range(SPANS)]
    chunks = [calls[start : start + BATCH] for start in range(0, len(calls), BATCH)]
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{PORT}", headers={"Authorization": f"Bearer {key}"}, timeout=120
        ) as http:
            await until_healthy(http)

            async def graphql(body: list[dict[str, Any]]) -> None:
                answer = (await http.post("/graphql", json={"query": TRACK_BATCH, "variables": {"i": body}})).json()
                assert answer == {"data": {"trackUsageBatch": {"insertedCount": len(body)}}}, answer

            def otlp(headers: dict[str, str]) -> Callable[[bytes], Awaitable[None]]:
                async def send(body: bytes) -> None:
                    response = await http.post("/v1/traces", content=body, headers=headers)
                    assert response.status_code == 200, response.content
                    if headers["Content-Type"] == "application/x-protobuf":
                        partial = ExportTraceServiceResponse.FromString(response.content).partial_success
                        assert partial.rejected_spans == 0, partial.error_message
                    else:
                        assert response.content == b"{}", response.content

                return send

            protobuf = {"Content-Type": "application/x-protobuf"}
            gzipped = {**protobuf, "Content-Encoding": "gzip"}
            json_type = {"Content-Type": "application/json"}
            warm = [as_input(item, 0) for item in calls[:200]]
            await graphql(warm)  # warm-up: schema caches, price lookups
            await otlp(protobuf)(export_of([as_span(item, 9) for item in calls[:200]]).SerializeToString())

            phases: list[tuple[str, list[Any], Callable[[Any], Awaitable[None]]]] = [
                ("trackUsageBatch (GraphQL, JSON)", [[as_input(i, 1) for i in c] for c in chunks], graphql),
                ("/v1/traces protobuf", [export_of([as_span(i, 2) for i in c]).SerializeToString() for c in chunks],
                 otlp(protobuf)),
                ("/v1/traces protobuf, gzip",
                 [gzip.compress(export_of([as_span(i, 3) for i in c]).SerializeToString()) for c in chunks],
                 otlp(gzipped)),
                ("/v1/traces OTLP/JSON", [as_otlp_json(export_of([as_span(i, 4) for i in c])) for c in chunks],
                 otlp(json_type)),
                ("/v1/traces protobuf, + as many HTTP spans",
                 [export_of([s for i in c for s in (as_span(i, 5), http_span(i, 5))]).SerializeToString()
                  for c in chunks], otlp(protobuf)),
            ]  # fmt: skip
            seconds = [0.0] * len(phases)
            peaks = [0] * len(phases)
            for round_ in range(ROUNDS):  # interleaved: each phase sees tables of the same sizes
                for number, (_, bodies, send) in enumerate(phases):
                    seconds[number] += await timed(bodies[round_::ROUNDS], send, rss)
                    peaks[number], rss.peak = max(peaks[number], rss.peak), 0
            rates = [
                (name, SPANS / took, peak) for (name, _, _), took, peak in zip(phases, seconds, peaks, strict=True)
            ]
        baseline = rates[0][1]
        print(
            f"one server process; machine: {os.cpu_count()} cores; {SPANS:,} GenAI calls a phase, "
            f"{CLIENTS} clients x batches of {BATCH}"
        )
        for name, rate, peak in rates:
            print(f"{name:45} {rate:9,.0f} calls/s   ratio to trackUsageBatch {rate / baseline:.2f}   "
                  f"peak RSS {peak / 1e6:.0f} MB")  # fmt: skip
    finally:
        server.terminate()
        server.wait(60)


def main() -> None:
    url = start_embedded_postgres(Path(tempfile.mkdtemp(prefix="llm-usage-bench-")), temporary=True)
    dsn, key = asyncio.run(prepare(url))
    asyncio.run(run(dsn, key))


if __name__ == "__main__":
    main()
