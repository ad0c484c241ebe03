"""Ingest speed: trackUsageBatch over real HTTP against raw COPY into the same table, and single trackUsage
calls from many clients.

    .venv/bin/python bench/ingest.py           (BENCH_INGEST_EVENTS=100000 events by default)

Starts an embedded PostgreSQL and `llm-usage serve` (rate limit off), then:
1. batches of 1,000 events from 4 concurrent clients through POST /graphql (priced, validated, idempotent);
2. the same number of rows through asyncpg `copy_records_to_table` into the same table and indexes;
3. single `trackUsage` requests from 32 concurrent clients: requests/s, p50 and p99 latency (sent by aiohttp, the
   lighter load generator, to both servers);
4. single `trackUsage` requests from 8 clients (the p99 target);
5. the Python client (`AsyncUsageTracker`, its defaults) sending events as fast as it can: its sustained rate;
6. the GraphQL floor: a second server process with the same `TrackUsageInput`, this project's GraphQL view and
   its parser/validation caches, whose mutations do nothing (`trackUsageBatch` of 1,000 at 4 clients, single
   `trackUsage` at 32 clients).
Prints events/s of each, the issue's three ratios (batch/COPY, single/floor, client/COPY), the server's CPU per
event (steadier than rates on a shared machine) and its peak RSS during each phase. `python bench/ingest.py --floor PORT` runs the floor server alone.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx
import psutil
import strawberry
from harness import until_healthy
from llm_usage_client import AsyncUsageTracker
from strawberry.schema.config import StrawberryConfig

from modules.core.principal import Principal, Scope
from modules.core.scalars import SCALAR_MAP
from modules.usage.ingest.inputs import TrackUsageInput
from service import variable_coercion
from service.config import Settings
from service.container import ApplicationContainer
from service.context import provide
from service.database import start_embedded_postgres
from service.documents import query_protection
from service.graphql_http import GraphQLOverHTTP
from service.migrations import upgrade_to_head
from service.variable_diagnosis import VariableDiagnosis

EVENTS = int(os.environ.get("BENCH_INGEST_EVENTS", "100000"))
SINGLES = int(os.environ.get("BENCH_SINGLE_REQUESTS", "6400"))
BATCH = 1000
BATCH_CLIENTS = 4
SINGLE_CLIENTS = 32
PORT = int(os.environ.get("BENCH_PORT", "8767"))
PROFILE = os.environ.get("BENCH_PROFILE")
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
MODELS = [
    ("openai", "gpt-4o"),
    ("openai", "gpt-4o-mini"),
    ("openai", "o3-mini"),
    ("anthropic", "claude-3-5-haiku-latest"),
    ("anthropic", "claude-sonnet-4-5"),
    ("google", "gemini-2.0-flash"),
    ("mistral", "mistral-small-latest"),
    ("groq", "llama-3.3-70b-versatile"),
]
TRACK_BATCH = "mutation($i: [TrackUsageInput!]!) { trackUsageBatch(inputs: $i) { insertedCount } }"
TRACK_ONE = "mutation($i: TrackUsageInput!) { trackUsage(input: $i) { duplicate } }"
FLOOR_BATCHES = int(os.environ.get("BENCH_FLOOR_BATCHES", "40"))
P99_CLIENTS = 8


@strawberry.type
class FloorAnswer:
    duplicate: bool = False
    inserted_count: int = 0


@strawberry.type
class FloorQuery:
    @strawberry.field
    def ok(self) -> bool:
        return True


@strawberry.type
class FloorMutation:
    """The floor's mutations: the real TrackUsageInput, converted as the service converts it, then nothing."""

    @strawberry.mutation
    def track_usage(self, input: TrackUsageInput) -> FloorAnswer:
        return FloorAnswer()

    @strawberry.mutation
    def track_usage_batch(self, inputs: list[TrackUsageInput]) -> FloorAnswer:
        return FloorAnswer(inserted_count=len(inputs))


def floor_app() -> GraphQLOverHTTP:
    """The GraphQL floor: this project's GraphQL-over-HTTP view and document caches over mutations that do
    nothing."""
    variable_coercion.install()  # as build_schema does
    schema = strawberry.Schema(
        query=FloorQuery,
        mutation=FloorMutation,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        extensions=query_protection(production=False),
        execution_context_class=VariableDiagnosis,
    )
    return GraphQLOverHTTP(schema)


def serve_floor(port: int) -> None:
    from service.server import run, server_config

    run(server_config(floor_app(), host="127.0.0.1", port=port, log_level="warning"))


def usage_input(rng: random.Random, now: datetime) -> dict[str, Any]:
    provider, model = rng.choice(MODELS)
    prompt = rng.randrange(50, 4000)
    return {
        "workspaceId": "w0",
        "requestId": uuid.uuid4().hex,
        "occurredAt": (now - timedelta(seconds=rng.randrange(3600))).isoformat(),
        "provider": provider,
        "model": model,
        "taskType": f"task-{rng.randrange(12)}",
        "userId": f"user-{rng.randrange(5000)}",
        "sessionId": f"s-{rng.randrange(20000)}",
        "promptTokens": prompt,
        "completionTokens": rng.randrange(5, 800),
        "cachedPromptTokens": prompt // 2 if rng.random() < 0.3 else 0,
        "durationMs": rng.randrange(100, 9000),
        "timeToFirstTokenMs": rng.randrange(50, 100),
        "tags": {"feature": f"f{rng.randrange(6)}"},
    }


def copy_row(item: dict[str, Any], now: datetime) -> tuple[Any, ...]:
    return (
        item["workspace_id"],
        uuid.uuid4().hex,
        datetime.fromisoformat(item["occurredAt"]),
        now,
        item["provider"],
        item["model"],
        item["taskType"],
        item["userId"],
        item["sessionId"],
        item["promptTokens"],
        item["completionTokens"],
        item["promptTokens"] + item["completionTokens"],
        item["cachedPromptTokens"],
        Decimal("0.001"),
        "CATALOG",
        item["durationMs"],
        item["timeToFirstTokenMs"],
        "SUCCESS",
        '{"feature": "f1"}',
    )


COPY_COLUMNS = [
    "workspace_id", "request_id", "occurred_at", "received_at", "provider", "model", "task_type", "user_id",
    "session_id", "prompt_tokens", "completion_tokens", "total_tokens", "cached_prompt_tokens", "cost_usd",
    "cost_source", "duration_ms", "time_to_first_token_ms", "status", "tags",
]  # fmt: skip


class PeakRss:
    """The largest RSS of any one server process (the workers, with several), and the CPU seconds the server's
    processes used while the work ran (steadier than a rate on a shared machine: what the code costs)."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak = 0
        self.cpu = 0.0

    def processes(self) -> list[psutil.Process]:
        return [self.process, *self.process.children(recursive=True)]

    def largest(self) -> int:
        return max(p.memory_info().rss for p in self.processes())

    def cpu_seconds(self) -> float:
        return sum(p.cpu_times().user + p.cpu_times().system for p in self.processes())

    async def watch(self, work: Awaitable[Any]) -> Any:
        task = asyncio.ensure_future(work)
        began = self.cpu_seconds()
        while not task.done():
            self.peak = max(self.peak, self.largest())
            await asyncio.sleep(0.05)
        self.cpu = self.cpu_seconds() - began
        return task.result()


async def prepare(url: str) -> tuple[str, str, str]:
    container = ApplicationContainer()
    container.settings.override(Settings(database_url=url))
    database = await provide(container.database())
    await upgrade_to_head(database.engine)
    workspace = await (await provide(container.workspaces.service())).create(Principal.system(), name="w0", slug="w0")
    access = await provide(container.access.service())
    key = (await access.create(Principal.system(), workspace_ref="w0", name="bench", scopes=[Scope.INGEST])).secret
    await provide(container.shutdown_resources())
    return url.replace("postgresql+asyncpg://", "postgresql://"), key, str(workspace.id)


async def run(dsn: str, key: str, workspace_id: str) -> None:
    command = [sys.executable, "-m", "service.cli", "serve", "--port", str(PORT), "--workers", str(WORKERS)]
    if PROFILE:  # BENCH_PROFILE=out.txt: the server runs under py-spy (collapsed stacks, GIL and idle excluded)
        command = [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--format",
            "raw",
            "--rate",
            "200",
            "-o",
            PROFILE,
            "--",
            *command,
        ]
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before measuring
        command,
        env={**os.environ, "DATABASE_URL": dsn, "LOG_LEVEL": "warning", "LLM_USAGE_RATE_LIMIT": "0"},
        stdout=subprocess.DEVNULL,
    )
    await asyncio.sleep(1)
    process = psutil.Process(server.pid)
    rss = PeakRss(process)
    rng = random.Random(11)
    now = datetime.now(UTC)
    try:
        limits = httpx.Limits(max_connections=SINGLE_CLIENTS + 4)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{PORT}", headers={"Authorization": f"Bearer {key}"}, timeout=120, limits=limits
        ) as http:
            await until_healthy(http)
            # warm-up: first requests build the schema caches and the price lookups
            await http.post(
                "/graphql", json={"query": TRACK_BATCH, "variables": {"i": [usage_input(rng, now) for _ in range(200)]}}
            )

            batches = [[usage_input(rng, now) for _ in range(BATCH)] for _ in range(EVENTS // BATCH)]
            # This process measures: its collector is frozen as the server's is (its full collections walked the
            # service's modules it imports, up to 112 ms inside the measured latencies)
            gc.collect()
            gc.freeze()

            async def send_batches(mine: list[list[dict[str, Any]]]) -> None:
                for batch in mine:
                    body = (await http.post("/graphql", json={"query": TRACK_BATCH, "variables": {"i": batch}})).json()
                    assert body == {"data": {"trackUsageBatch": {"insertedCount": BATCH}}}, body

            started = time.perf_counter()
            await rss.watch(asyncio.gather(*(send_batches(batches[n::BATCH_CLIENTS]) for n in range(BATCH_CLIENTS))))
            http_rate = len(batches) * BATCH / (time.perf_counter() - started)
            batch_peak, rss.peak = rss.peak, 0
            batch_cpu = rss.cpu / (len(batches) * BATCH)

            connection = await asyncpg.connect(dsn)
            await connection.set_type_codec(
                "jsonb", encoder=lambda v: b"\x01" + v.encode(), decoder=lambda v: v[1:].decode(),
                schema="pg_catalog", format="binary",
            )  # fmt: skip
            records = [copy_row({**item, "workspace_id": uuid.UUID(workspace_id)}, now) for b in batches for item in b]
            started = time.perf_counter()
            for start in range(0, len(records), BATCH):
                await connection.copy_records_to_table(
                    "usage_events", records=records[start : start + BATCH], columns=COPY_COLUMNS
                )
            copy_rate = len(records) / (time.perf_counter() - started)
            await connection.close()

            async def singles(clients: int, requests: int) -> tuple[float, float, float]:
                """Requests/s, p50 and p99 (ms) of single trackUsage calls from `clients` at once."""
                items = [usage_input(rng, now) for _ in range(requests // clients * clients)]
                started = time.perf_counter()
                latencies = await rss.watch(single_calls(f"http://127.0.0.1:{PORT}", key, items, clients))
                rate = len(latencies) / (time.perf_counter() - started)
                ordered = sorted(latencies)
                return rate, statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000

            single_rate, p50, p99 = await singles(SINGLE_CLIENTS, SINGLES)
            single_peak, rss.peak = rss.peak, 0
            single_cpu = rss.cpu / (SINGLES // SINGLE_CLIENTS * SINGLE_CLIENTS)
            _, p50_8, p99_8 = await singles(P99_CLIENTS, SINGLES // 4)
            p99_peak, rss.peak = rss.peak, 0

            tracker = AsyncUsageTracker(f"http://127.0.0.1:{PORT}", key)
            fields = [{snake(k): v for k, v in usage_input(rng, now).items()} for _ in range(EVENTS // 2)]
            started = time.perf_counter()

            async def track_all() -> None:
                for event in fields:
                    tracker.track(**event)
                    if tracker.settings.stats.queued % BATCH == 0:
                        await asyncio.sleep(0)  # let the sender run, as a service's own awaits would
                await tracker.flush(timeout=600)

            await rss.watch(track_all())
            client_rate = len(fields) / (time.perf_counter() - started)
            client_peak = rss.peak
            client_cpu = rss.cpu / len(fields)
            stats = tracker.settings.stats
            assert (stats.inserted, stats.dropped) == (len(fields), 0), stats
            await tracker.close()

        floor_batch, floor_single = await measure_floor(rng, now)

        lines = [
            f"server: {WORKERS} process(es); machine: {os.cpu_count()} cores, "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB; {len(records):,} events a phase",
            f"raw COPY (asyncpg, same table):               {copy_rate:9,.0f} events/s",
            f"trackUsageBatch (HTTP, {BATCH_CLIENTS} clients x {BATCH}):      {http_rate:9,.0f} events/s"
            f"    ratio batch/COPY {http_rate / copy_rate:.3f}   peak RSS {batch_peak / 1e6:.0f} MB",
            f"  floor: do-nothing trackUsageBatch:          {floor_batch:9,.0f} events/s    ratio floor/COPY "
            f"{floor_batch / copy_rate:.3f}",
            f"trackUsage ({SINGLE_CLIENTS} clients):                     {single_rate:9,.0f} requests/s  "
            f"ratio single/floor {single_rate / floor_single:.3f}   p50 {p50:.1f} ms  p99 {p99:.1f} ms   "
            f"peak RSS {single_peak / 1e6:.0f} MB",
            f"  floor: do-nothing trackUsage:               {floor_single:9,.0f} requests/s",
            f"trackUsage ({P99_CLIENTS} clients):                                        p50 {p50_8:.1f} ms  "
            f"p99 {p99_8:.1f} ms   peak RSS {p99_peak / 1e6:.0f} MB",
            f"Python client (AsyncUsageTracker, defaults):  {client_rate:9,.0f} events/s    ratio client/COPY "
            f"{client_rate / copy_rate:.3f}   peak RSS {client_peak / 1e6:.0f} MB",
            f"server CPU: {batch_cpu * 1e6:.0f} us a batched event, {single_cpu * 1e6:.0f} us a single call, "
            f"{client_cpu * 1e6:.0f} us a client event",
        ]
        print("\n".join(lines))
    finally:
        for child in psutil.Process(server.pid).children(recursive=True) if PROFILE else []:
            child.send_signal(subprocess.signal.SIGINT)
        server.terminate() if not PROFILE else None
        server.wait(60)


async def single_calls(url: str, key: str | None, items: list[dict[str, Any]], clients: int) -> list[float]:
    """Each item sent as one trackUsage call by `clients` at once, through aiohttp (httpx took ~0.7 ms of CPU a
    request more, on the cores the server shares); the latency of each, in seconds."""
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=clients), headers=headers) as session:

        async def send(mine: list[dict[str, Any]]) -> None:
            for item in mine:
                begun = time.perf_counter()
                async with session.post("/graphql", json={"query": TRACK_ONE, "variables": {"i": item}}) as response:
                    answer = await response.json()
                latencies.append(time.perf_counter() - begun)
                assert answer == {"data": {"trackUsage": {"duplicate": False}}}, answer

        await asyncio.gather(*(send(items[n::clients]) for n in range(clients)))
    return latencies


async def post_floor(http: httpx.AsyncClient, body: dict[str, Any]) -> Any:
    """A do-nothing request, sent again if the server closed its idle keep-alive connection as it was reused."""
    try:
        return (await http.post("/graphql", json=body)).json()
    except (httpx.ReadError, httpx.RemoteProtocolError):
        return (await http.post("/graphql", json=body)).json()


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


async def measure_floor(rng: random.Random, now: datetime) -> tuple[float, float]:
    """Events/s of a do-nothing trackUsageBatch (4 clients x 1,000) and requests/s of a do-nothing trackUsage
    (32 clients), against the floor server (a process of its own, started now and stopped after)."""
    port = PORT + 1
    floor = subprocess.Popen([sys.executable, __file__, "--floor", str(port)])  # noqa: ASYNC220 - before measuring
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=120, limits=httpx.Limits(max_connections=SINGLE_CLIENTS + 4)
        ) as http:
            for _ in range(300):
                try:
                    await http.post("/graphql", json={"query": "{ ok }"})
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            batches = [[usage_input(rng, now) for _ in range(BATCH)] for _ in range(FLOOR_BATCHES)]

            async def send_batches(mine: list[list[dict[str, Any]]]) -> None:
                for batch in mine:
                    body = await post_floor(http, {"query": TRACK_BATCH, "variables": {"i": batch}})
                    assert body == {"data": {"trackUsageBatch": {"insertedCount": BATCH}}}, body

            await send_batches(batches[:2])  # warm-up
            started = time.perf_counter()
            await asyncio.gather(*(send_batches(batches[n::BATCH_CLIENTS]) for n in range(BATCH_CLIENTS)))
            batch_rate = FLOOR_BATCHES * BATCH / (time.perf_counter() - started)
            items = [usage_input(rng, now) for _ in range(SINGLES)]

            started = time.perf_counter()
            await single_calls(f"http://127.0.0.1:{port}", None, items, SINGLE_CLIENTS)
            single_rate = len(items) / (time.perf_counter() - started)
    finally:
        floor.terminate()
        floor.wait(30)
    return batch_rate, single_rate


def main() -> None:
    if sys.argv[1:2] == ["--floor"]:
        serve_floor(int(sys.argv[2]))
        return
    url = start_embedded_postgres(Path(tempfile.mkdtemp(prefix="llm-usage-bench-")), temporary=True)
    dsn, key, workspace_id = asyncio.run(prepare(url))
    asyncio.run(run(dsn, key, workspace_id))


if __name__ == "__main__":
    main()
