"""What keeping conversation content costs ingestion, and that analytics do not notice it.

    .venv/bin/python bench/content.py           (BENCH_CONTENT_BATCHES=20 batches of 1,000 per phase)

Starts an embedded PostgreSQL and `llm-usage serve`, then sends trackUsageBatch of 1,000 from 4 clients in three
phases, each against the first measured in the same run: the same events without content (the baseline), with
content (~1.2 KB of chat messages a call) to a workspace that keeps none (dropped and counted), and to one that
keeps it (read, redacted, bounded, compressed, stored). Then usageAnalytics and a daily series of the workspace
keeping content, timed with its contents stored and again with them deleted (the analytics never read them).
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from harness import until_healthy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modules.core.principal import Principal, Scope
from service.config import Settings
from service.container import ApplicationContainer
from service.context import provide
from service.database import start_embedded_postgres
from service.migrations import upgrade_to_head

BATCHES = int(os.environ.get("BENCH_CONTENT_BATCHES", "20"))
CLIENTS = 4
PORT = int(os.environ.get("BENCH_PORT", "8768"))
TRACK_BATCH = "mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs) { insertedCount } }"
ANALYTICS = [
    '{ usageAnalytics(filter: {workspaceId: "on"}) { totals { calls costUsd p95DurationMs } } }',
    '{ usageTimeSeries(filter: {workspaceId: "on"}, interval: DAY, groupBy: [MODEL]) { buckets { start } } }',
]
WORDS = [
    "the",
    "order",
    "ships",
    "from",
    "our",
    "warehouse",
    "after",
    "payment",
    "clears",
    "and",
    "tracking",
    "is",
    "mailed",
    "to",
    "you",
]


def said(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    question = " ".join(rng.choice(WORDS) for _ in range(60))
    answer = " ".join(rng.choice(WORDS) for _ in range(120))
    return (
        {"messages": [{"role": "system", "content": "You are a support bot for ACME."},
                      {"role": "user", "content": f"{question} mail me at jane{rng.randrange(999)}@example.com"}]},
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": answer}}]},
    )  # fmt: skip


def call(rng: random.Random, workspace: str, now: datetime, content: bool) -> dict[str, Any]:
    event = {
        "workspaceId": workspace,
        "requestId": uuid.uuid4().hex,
        "occurredAt": (now - timedelta(seconds=rng.randrange(86_400 * 7))).isoformat(),
        "provider": "openai",
        "model": rng.choice(["gpt-4o", "gpt-4o-mini"]),
        "userId": f"user-{rng.randrange(500)}",
        "promptTokens": rng.randrange(50, 4000),
        "completionTokens": rng.randrange(5, 800),
        "durationMs": rng.randrange(100, 9000),
    }
    if content:
        event["input"], event["output"] = said(rng)
    return event


async def prepare(url: str) -> tuple[str, str]:
    container = ApplicationContainer()
    container.settings.override(Settings(database_url=url))
    database = await provide(container.database())
    await upgrade_to_head(database.engine)
    workspaces = await provide(container.workspaces.service())
    for slug in ("off", "on"):
        await workspaces.create(Principal.system(), name=slug, slug=slug)
    access = await provide(container.access.service())
    key = (await access.create(Principal.system(), workspace_ref=None, name="bench", scopes=[Scope.ADMIN])).secret
    await provide(container.shutdown_resources())
    return url.replace("postgresql+asyncpg://", "postgresql://"), key


async def ingest(http: httpx.AsyncClient, batches: list[list[dict[str, Any]]]) -> float:
    """Events per second of `batches` sent by CLIENTS concurrent clients."""
    queue = list(batches)

    async def client() -> None:
        while queue:
            answer = await http.post("/graphql", json={"query": TRACK_BATCH, "variables": {"inputs": queue.pop()}})
            assert answer.json()["data"]["trackUsageBatch"]["insertedCount"] == 1000, answer.text[:300]

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return sum(map(len, batches)) / (time.perf_counter() - started)


async def settle(connection: asyncpg.Connection, http: httpx.AsyncClient) -> None:
    """The same state before each timing: the writes just made vacuumed and checkpointed (the first reads after
    a large ingest otherwise pay for setting hint bits and racing autovacuum), the queries run once."""
    await connection.execute("VACUUM (ANALYZE) usage_events, usage_daily, usage_hourly, usage_contents")
    await connection.execute("CHECKPOINT")
    for document in ANALYTICS:
        await timed(http, document, runs=5)


async def timed(http: httpx.AsyncClient, document: str, runs: int = 30) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = await http.post("/graphql", json={"query": document})
        assert "errors" not in answer.json(), answer.text[:300]
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def run(dsn: str, key: str) -> None:
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before measuring
        [sys.executable, "-m", "service.cli", "serve", "--port", str(PORT)],
        env={**os.environ, "DATABASE_URL": dsn, "LOG_LEVEL": "warning", "LLM_USAGE_RATE_LIMIT": "0"},
        stdout=subprocess.DEVNULL,
    )
    rng, now = random.Random(5), datetime.now(UTC)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{PORT}", headers={"Authorization": f"Bearer {key}"}, timeout=120
        ) as http:
            await until_healthy(http)
            turned_on = await http.post(
                "/graphql", json={"query": 'mutation { setContentSettings(input: {workspaceId: "on", enabled: true}) '
                                  "{ enabled } }"})  # fmt: skip
            assert turned_on.json()["data"]["setContentSettings"]["enabled"] is True

            def phase(workspace: str, content: bool) -> list[list[dict[str, Any]]]:
                return [[call(rng, workspace, now, content) for _ in range(1000)] for _ in range(BATCHES)]

            await ingest(http, phase("on", False)[:2])  # warm-up
            plain = await ingest(http, phase("on", False))
            dropped = await ingest(http, phase("off", True))
            kept = await ingest(http, phase("on", True))
            connection = await asyncpg.connect(dsn)
            await settle(connection, http)
            with_contents = [await timed(http, document) for document in ANALYTICS]
            size = await connection.fetchval("SELECT pg_total_relation_size('usage_contents')")
            stored = await connection.fetchrow(
                "SELECT count(*), sum(original_bytes), sum(octet_length(body)), sum(redactions) FROM usage_contents"
            )
            await connection.execute("DELETE FROM usage_contents")
            await settle(connection, http)
            await connection.close()
            without_contents = [await timed(http, document) for document in ANALYTICS]
    finally:
        server.terminate()
        server.wait()
    print(f"trackUsageBatch of 1,000 at {CLIENTS} clients, {BATCHES} batches a phase")
    print(f"  no content (baseline)          {plain:9,.0f} events/s  1.00")
    print(f"  content, workspace keeps none  {dropped:9,.0f} events/s  {dropped / plain:.2f}")
    print(f"  content kept                   {kept:9,.0f} events/s  {kept / plain:.2f}")
    count, original, compressed, redactions = stored
    print(f"  stored: {count:,} calls, {original / count:,.0f} bytes of text a call, {compressed / count:,.0f} stored "
          f"({original / compressed:.1f}:1), {redactions:,} redactions; usage_contents {size / 2**20:,.1f} MiB")  # fmt: skip
    for document, kept_ms, gone_ms in zip(ANALYTICS, with_contents, without_contents, strict=True):
        name = document.split("(")[0].strip("{ ")
        print(
            f"  {name}: p50 {kept_ms:.1f} ms with the contents stored, {gone_ms:.1f} ms without ({kept_ms / gone_ms:.2f})"
        )


def main() -> None:
    url = start_embedded_postgres(Path(tempfile.mkdtemp(prefix="llm-usage-bench-")), temporary=True)
    dsn, key = asyncio.run(prepare(url))
    asyncio.run(run(dsn, key))


if __name__ == "__main__":
    main()
