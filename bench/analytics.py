"""Analytics speed: each dashboard query through HTTP against a plain SQL GROUP BY and load-and-sum in Python.

    BENCH_EVENTS=1000000 .venv/bin/python bench/analytics.py        (default 1,000,000; 10,000,000 for the full run)

Generates realistic data with COPY (100 workspaces, Zipf-like sizes so the largest holds ~20%, 8 providers,
40 models, 12 task types, 5,000 users, sessions, 2% errors, tags, 90 days), starts `llm-usage serve`, and for
the largest workspace and one 30-day window runs each query 50 times: p50/p95 of the API, of the same answer
by a plain GROUP BY on the events table, and of loading the rows and summing in Python (the seed's way).
Answers are checked equal (calls and cost). Prints the ratios and the server's peak RSS.
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
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import psutil

from modules.core.principal import Principal, Scope
from modules.usage.rollups import rebuild_statements
from service.config import Settings
from service.container import ApplicationContainer
from service.context import provide
from service.database import start_embedded_postgres
from service.migrations import upgrade_to_head

EVENTS = int(os.environ.get("BENCH_EVENTS", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "50"))
PORT = int(os.environ.get("BENCH_PORT", "8766"))
NOW = datetime(2026, 11, 1, tzinfo=UTC)
WINDOW = (NOW - timedelta(days=30), NOW)
PROVIDERS = ["openai", "anthropic", "google", "mistral", "azure", "groq", "deepseek", "x-ai"]
MODELS = [(PROVIDERS[i % 8], f"model-{i}") for i in range(36)] + [
    ("openai", "gpt-4o"),
    ("openai", "gpt-4o-mini"),
    ("anthropic", "claude-3-5-haiku-latest"),
    ("mistral", "mistral-small-latest"),
]


def workspace_sizes(count: int, total: int) -> list[int]:
    weights = [1 / (rank + 1) ** 1.1 for rank in range(count)]
    scale = total / sum(weights)
    return [max(1, int(w * scale)) for w in weights]


def rows(workspace: uuid.UUID, count: int, rng: random.Random) -> list[tuple]:
    out = []
    for _ in range(count):
        provider, model = rng.choice(MODELS)
        prompt, completion = rng.randrange(50, 4000), rng.randrange(5, 800)
        cost = Decimal(prompt * 25 + completion * 100) / Decimal(10_000_000)
        error = rng.random() < 0.02
        out.append(
            (
                workspace,
                uuid.uuid4().hex,
                NOW - timedelta(seconds=rng.randrange(90 * 86400)),
                NOW,
                provider,
                model,
                f"task-{rng.randrange(12)}",
                f"user-{rng.randrange(5000)}",
                f"s-{rng.randrange(count // 5 + 1)}",
                prompt,
                completion,
                prompt + completion,
                cost,
                "CATALOG",
                rng.randrange(100, 9000),
                "ERROR" if error else "SUCCESS",
                f'{{"feature": "f{rng.randrange(6)}"}}',
            )
        )
    return out


COLUMNS = [
    "workspace_id",
    "request_id",
    "occurred_at",
    "received_at",
    "provider",
    "model",
    "task_type",
    "user_id",
    "session_id",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost_usd",
    "cost_source",
    "duration_ms",
    "status",
    "tags",
]


async def seed(url: str) -> tuple[str, str]:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    container = ApplicationContainer()
    container.settings.override(Settings(database_url=url))
    database = await provide(container.database())
    await upgrade_to_head(database.engine)
    workspaces = await provide(container.workspaces.service())
    access = await provide(container.access.service())
    sizes = workspace_sizes(100, EVENTS)
    ids = []
    for n in range(100):
        ids.append((await workspaces.create(Principal.system(), name=f"w{n}", slug=f"w{n}")).id)
    key = (await access.create(Principal.system(), workspace_ref="w0", name="bench", scopes=[Scope.READ])).secret
    await provide(container.shutdown_resources())
    connection = await asyncpg.connect(dsn)
    await connection.set_type_codec(
        "jsonb",
        encoder=lambda v: b"\x01" + v.encode(),
        decoder=lambda v: v[1:].decode(),
        schema="pg_catalog",
        format="binary",
    )
    rng = random.Random(7)
    started = time.perf_counter()
    for workspace, size in zip(ids, sizes, strict=True):
        for offset in range(0, size, 100_000):
            await connection.copy_records_to_table(
                "usage_events", records=rows(workspace, min(100_000, size - offset), rng), columns=COLUMNS
            )
    rolled = time.perf_counter()
    for statement in rebuild_statements():  # COPY went around the insert path that keeps the rollups
        await connection.execute(statement)
    print(f"rollups rebuilt in {time.perf_counter() - rolled:.1f} s")
    await connection.execute("ANALYZE usage_events, usage_daily, usage_hourly, usage_user_daily")
    await connection.close()
    print(
        f"seeded {sum(sizes):,} events in {time.perf_counter() - started:.0f} s; largest workspace {sizes[0]:,} ({sizes[0] / sum(sizes):.0%})"
    )
    return dsn, key


QUERIES = {
    "usageAnalytics": "{ usageAnalytics(filter: $f) { totals { calls costUsd } byModel { key metrics { calls } } } }",
    "usage(MODEL, TASK_TYPE)": "{ usage(filter: $f, groupBy: [MODEL, TASK_TYPE], limit: 1000) { groups { metrics { calls costUsd } } } }",
    "usageTimeSeries(DAY)": "{ usageTimeSeries(filter: $f, interval: DAY) { buckets { metrics { calls costUsd } } } }",
    "usageTimeSeries(HOUR, PROVIDER)": "{ usageTimeSeries(filter: $f, interval: HOUR, groupBy: [PROVIDER]) { buckets { metrics { calls costUsd } } } }",
    "topUsers": "{ topUsers(filter: $f, limit: 10) { userId metrics { calls costUsd } } }",
}
PLAIN_SQL = (
    "SELECT count(*), sum(cost_usd) FROM (SELECT model, task_type, count(*), sum(cost_usd) AS cost_usd FROM usage_events "
    "WHERE workspace_id = $1 AND occurred_at >= $2 AND occurred_at < $3 GROUP BY model, task_type) g"
)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


async def compare(dsn: str, key: str) -> None:
    connection = await asyncpg.connect(dsn)
    workspace = await connection.fetchval("SELECT id FROM workspaces WHERE slug = 'w0'")
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before measuring
        [sys.executable, "-m", "service.cli", "serve", "--port", str(PORT)],
        env={**os.environ, "DATABASE_URL": dsn, "LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
    )
    process = psutil.Process(server.pid)
    peak = 0
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{PORT}", headers={"Authorization": f"Bearer {key}"}, timeout=120
        ) as http:
            for _ in range(200):
                try:
                    await http.get("/healthz")
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            variables = {"f": {"workspaceId": "w0", "from": WINDOW[0].isoformat(), "to": WINDOW[1].isoformat()}}
            plain = []
            for _ in range(RUNS):
                started = time.perf_counter()
                await connection.fetchrow(PLAIN_SQL, workspace, *WINDOW)
                plain.append(time.perf_counter() - started)
            loaded = []
            for _ in range(max(3, RUNS // 10)):
                started = time.perf_counter()
                records = await connection.fetch(
                    "SELECT * FROM usage_events WHERE workspace_id = $1 AND occurred_at >= $2 AND occurred_at < $3",
                    workspace,
                    *WINDOW,
                )
                summed = sum((r["cost_usd"] for r in records), Decimal(0))
                loaded.append(time.perf_counter() - started)
            print(f"window: {len(records):,} events of the largest workspace; cost {summed}")
            print(
                f"plain GROUP BY: p50 {percentiles(plain)[0]:.1f} ms p95 {percentiles(plain)[1]:.1f} ms;"
                f" load-and-sum: p50 {percentiles(loaded)[0]:.0f} ms"
            )
            for name, query in QUERIES.items():
                document = "query($f: UsageFilter!) " + query
                samples = []
                for _ in range(RUNS):
                    started = time.perf_counter()
                    body = (await http.post("/graphql", json={"query": document, "variables": variables})).json()
                    samples.append(time.perf_counter() - started)
                    peak = max(peak, process.memory_info().rss)
                assert "errors" not in body, body
                if name == "usageAnalytics":
                    totals = body["data"]["usageAnalytics"]["totals"]
                    assert totals["calls"] == len(records) and Decimal(totals["costUsd"]) == summed, (
                        totals,
                        len(records),
                        summed,
                    )
                p50, p95 = percentiles(samples)
                print(
                    f"{name:34s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms   vs GROUP BY x{percentiles(plain)[0] / p50:5.2f}"
                    f"   vs load-and-sum x{percentiles(loaded)[0] / p50:6.1f}"
                )
        print(
            f"server peak RSS {peak / 1e6:.0f} MB; machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB"
        )
    finally:
        server.terminate()
        server.wait(20)
        await connection.close()


def main() -> None:
    url = start_embedded_postgres(Path(tempfile.mkdtemp(prefix="llm-usage-bench-")), temporary=True)
    dsn, key = asyncio.run(seed(url))
    asyncio.run(compare(dsn, key))


if __name__ == "__main__":
    main()
