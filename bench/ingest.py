"""Ingest speed: trackUsageBatch over real HTTP against raw COPY into the same table, and single trackUsage
calls from many clients.

    .venv/bin/python bench/ingest.py           (BENCH_INGEST_EVENTS=100000 events by default)

Starts an embedded PostgreSQL and `llm-usage serve` (rate limit off), then:
1. batches of 1,000 events from 4 concurrent clients through POST /graphql (priced, validated, idempotent);
2. the same number of rows through asyncpg `copy_records_to_table` into the same table and indexes;
3. single `trackUsage` requests from 32 concurrent clients: requests/s, p50 and p99 latency.
Prints events/s of each, the ratio, and the server's peak RSS during each phase.
"""

from __future__ import annotations

import asyncio
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

import asyncpg
import httpx
import psutil

from modules.core.principal import Principal, Scope
from service.config import Settings
from service.container import ApplicationContainer
from service.context import provide
from service.database import start_embedded_postgres
from service.migrations import upgrade_to_head

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
    """The largest RSS of any one server process (the workers, with several)."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak = 0

    def largest(self) -> int:
        processes = [self.process, *self.process.children(recursive=True)]
        return max(p.memory_info().rss for p in processes)

    async def watch(self, work: Awaitable[Any]) -> Any:
        task = asyncio.ensure_future(work)
        while not task.done():
            self.peak = max(self.peak, self.largest())
            await asyncio.sleep(0.05)
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
            for _ in range(300):
                try:
                    await http.get("/healthz")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            # warm-up: first requests build the schema caches and the price lookups
            await http.post(
                "/graphql", json={"query": TRACK_BATCH, "variables": {"i": [usage_input(rng, now) for _ in range(200)]}}
            )

            batches = [[usage_input(rng, now) for _ in range(BATCH)] for _ in range(EVENTS // BATCH)]

            async def send_batches(mine: list[list[dict[str, Any]]]) -> None:
                for batch in mine:
                    body = (await http.post("/graphql", json={"query": TRACK_BATCH, "variables": {"i": batch}})).json()
                    assert body == {"data": {"trackUsageBatch": {"insertedCount": BATCH}}}, body

            started = time.perf_counter()
            await rss.watch(asyncio.gather(*(send_batches(batches[n::BATCH_CLIENTS]) for n in range(BATCH_CLIENTS))))
            http_rate = len(batches) * BATCH / (time.perf_counter() - started)
            batch_peak, rss.peak = rss.peak, 0

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

            latencies: list[float] = []

            async def send_singles(count: int) -> None:
                for _ in range(count):
                    item = usage_input(rng, now)
                    begun = time.perf_counter()
                    body = (await http.post("/graphql", json={"query": TRACK_ONE, "variables": {"i": item}})).json()
                    latencies.append(time.perf_counter() - begun)
                    assert body == {"data": {"trackUsage": {"duplicate": False}}}, body

            started = time.perf_counter()
            await rss.watch(asyncio.gather(*(send_singles(SINGLES // SINGLE_CLIENTS) for _ in range(SINGLE_CLIENTS))))
            single_rate = len(latencies) / (time.perf_counter() - started)
            ordered = sorted(latencies)
            p50, p99 = statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000

        print(
            f"server: {WORKERS} process(es); machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; {len(records):,} events a phase"
        )
        print(
            f"trackUsageBatch (HTTP, {BATCH_CLIENTS} clients x {BATCH}): {http_rate:9,.0f} events/s   peak RSS {batch_peak / 1e6:.0f} MB"
        )
        print(
            f"raw COPY (asyncpg, same table):          {copy_rate:9,.0f} events/s   ratio HTTP/COPY {http_rate / copy_rate:.2f}"
        )
        print(
            f"trackUsage ({SINGLE_CLIENTS} clients):                {single_rate:9,.0f} requests/s  p50 {p50:.1f} ms  p99 {p99:.1f} ms"
            f"   peak RSS {rss.peak / 1e6:.0f} MB"
        )
    finally:
        for child in psutil.Process(server.pid).children(recursive=True) if PROFILE else []:
            child.send_signal(subprocess.signal.SIGINT)
        server.terminate() if not PROFILE else None
        server.wait(60)


def main() -> None:
    url = start_embedded_postgres(Path(tempfile.mkdtemp(prefix="llm-usage-bench-")), temporary=True)
    dsn, key, workspace_id = asyncio.run(prepare(url))
    asyncio.run(run(dsn, key, workspace_id))


if __name__ == "__main__":
    main()
