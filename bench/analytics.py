"""Analytics speed: each dashboard query through HTTP against a plain SQL GROUP BY and load-and-sum in Python.

    BENCH_EVENTS=1000000 .venv/bin/python bench/analytics.py        (default 1,000,000; 10,000,000 for the full run)
    BENCH_DATA_DIR=/tmp/analytics-bench .venv/bin/python bench/analytics.py     (seed once, reuse after; a
        directory holds one BENCH_EVENTS)

Generates realistic data with COPY (100 workspaces, Zipf-like sizes so the largest holds ~20%, 8 providers,
40 models, 12 task types, 5,000 users, sessions, 2% errors, tags, durations and times to first token, 90 days), starts `llm-usage serve`, and for
the largest workspace and one 30-day window runs each query 50 times: p50/p95 of the API, of the same answer
by a plain GROUP BY on the events table, and of loading the rows and summing in Python (the seed's way).
The three answers are checked equal (every group's calls and cost). Percentile queries (from the rollup's latency
histograms) are also checked within 2% of percentile_cont and timed against the same query 1 s off the UTC day
(once answered from the events; now split: whole days from the rollups, the two 1 s edges from the events). Prints the ratios and the server's peak RSS.
Then the overview's readers over a 30-day window not aligned to days (BENCH_SPLIT_ONLY=1: only that), split
into rollup days and event edges, against the events alone.
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
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import psutil
from harness import until_healthy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from modules.core.principal import Principal, Scope
from modules.usage.analytics.aggregates import UsageAggregates
from modules.usage.analytics.dimensions import GroupBy, UsageDimension
from modules.usage.analytics.metrics import MetricNeeds
from modules.usage.analytics.series import SeriesReader, TimeInterval, boundaries
from modules.usage.analytics.sources import EVENTS as EVENTS_SOURCE
from modules.usage.analytics.sources import Source
from modules.usage.records import UsageFilterSpec
from modules.usage.rollups.writer import rebuild_statements
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
                (duration := rng.randrange(100, 9000)),
                20 + duration // 4 + prompt % 300,  # time to first token: no draw of its own, the data set stays
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
    "time_to_first_token_ms",
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
    # COPY went around the insert path that claims each event's idempotency key too
    await connection.execute(
        "INSERT INTO usage_request_keys (workspace_id, request_id, event_id, occurred_at) "
        "SELECT workspace_id, request_id, id, occurred_at FROM usage_events ORDER BY workspace_id, request_id"
    )
    rolled = time.perf_counter()
    for statement in rebuild_statements():  # COPY went around the insert path that keeps the rollups
        await connection.execute(statement)
    print(f"rollups rebuilt in {time.perf_counter() - rolled:.1f} s")
    # VACUUM as autovacuum would within minutes: the rebuild rewrote every rollup row, and a table not vacuumed yet
    # has no visibility map (at 10M the per-model percentiles answered in 97 ms p50 before usage_latency_daily's
    # first vacuum, 61 ms after; the plain GROUP BY reads usage_events, which autovacuum had reached).
    await connection.execute(
        "VACUUM (ANALYZE) usage_events, usage_daily, usage_hourly, usage_user_daily, usage_user_weekly, "
        "usage_latency_daily, usage_latency_weekly"
    )
    await connection.close()
    print(
        f"seeded {sum(sizes):,} events in {time.perf_counter() - started:.0f} s; largest workspace {sizes[0]:,} ({sizes[0] / sum(sizes):.0%})"
    )
    return dsn, key


WHERE = "workspace_id = $1 AND occurred_at >= $2 AND occurred_at < $3"
Rows = set[tuple[Any, ...]]  # (group key..., calls, cost): one answer, comparable whoever computed it


@dataclass(frozen=True)
class Query:
    """One dashboard query, and the same answer by a plain GROUP BY and by summing loaded rows in Python."""

    graphql: str
    plain_sql: str
    api_rows: Callable[[dict[str, Any]], Rows]
    summed: Callable[[list[asyncpg.Record]], Rows]
    # Percentile queries: the API's p95 per group key; plain_sql then ends with the exact p95 (percentile_cont),
    # and the API is also timed on the window moved by a second (off the UTC day: answered from the events).
    p95: Callable[[dict[str, Any]], dict[tuple[Any, ...], float]] | None = None


def money(value: Any) -> Decimal:
    return Decimal(value or 0).normalize()


def summed_by(records: list[asyncpg.Record], key: Callable[[asyncpg.Record], tuple[Any, ...]]) -> dict[Any, list]:
    groups: dict[Any, list] = defaultdict(lambda: [0, Decimal(0)])
    for record in records:
        group = groups[key(record)]
        group[0] += 1
        group[1] += record["cost_usd"] or 0
    return groups


def as_rows(groups: dict[Any, list]) -> Rows:
    return {(*key, calls, money(cost)) for key, (calls, cost) in groups.items()}


def metric_row(key: tuple[Any, ...], metrics: dict[str, Any]) -> tuple[Any, ...]:
    return (*key, metrics["calls"], money(metrics["costUsd"]))


def top_users(records: list[asyncpg.Record]) -> Rows:
    groups = summed_by([r for r in records if r["user_id"] is not None], lambda r: (r["user_id"],))
    ranked = sorted(groups.items(), key=lambda item: (-item[1][1], -item[1][0], item[0]))[:10]
    return as_rows(dict(ranked))


def hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


# The three forms of usage(MODEL, TASK_TYPE) share their plain SQL and their load-and-sum.
BY_MODEL_AND_TASK = (
    f"SELECT model, task_type, count(*), coalesce(sum(cost_usd), 0) FROM usage_events WHERE {WHERE} "
    "GROUP BY model, task_type"
)


def summed_by_model_and_task(records: list[asyncpg.Record]) -> Rows:
    return as_rows(summed_by(records, lambda r: (r["model"], r["task_type"])))


QUERIES = {
    "usageAnalytics": Query(
        "{ usageAnalytics(filter: $f) { totals { calls costUsd } byModel { key metrics { calls costUsd } } } }",
        f"SELECT coalesce(model, '*'), count(*), coalesce(sum(cost_usd), 0) FROM usage_events WHERE {WHERE} "
        "GROUP BY ROLLUP (model)",
        lambda d: (
            {metric_row(("*",), d["usageAnalytics"]["totals"])}
            | {metric_row((g["key"],), g["metrics"]) for g in d["usageAnalytics"]["byModel"]}
        ),
        lambda rs: as_rows(summed_by(rs, lambda r: ("*",))) | as_rows(summed_by(rs, lambda r: (r["model"],))),
    ),
    "usage(MODEL, TASK_TYPE)": Query(
        "{ usage(filter: $f, groupBy: [MODEL, TASK_TYPE], limit: 1000) { groups { model: value(dimension: MODEL) "
        "task: value(dimension: TASK_TYPE) metrics { calls costUsd } } } }",
        BY_MODEL_AND_TASK,
        lambda d: {metric_row((g["model"], g["task"]), g["metrics"]) for g in d["usage"]["groups"]},
        summed_by_model_and_task,
    ),
    "usage(MODEL, TASK_TYPE) fields": Query(
        "{ usage(filter: $f, groupBy: [MODEL, TASK_TYPE], limit: 1000) { groups { model taskType "
        "metrics { calls costUsd } } } }",
        BY_MODEL_AND_TASK,
        lambda d: {metric_row((g["model"], g["taskType"]), g["metrics"]) for g in d["usage"]["groups"]},
        summed_by_model_and_task,
    ),
    "usage(MODEL, TASK_TYPE) columns": Query(
        "{ usage(filter: $f, groupBy: [MODEL, TASK_TYPE], limit: 1000) { columns { dimensions { values } "
        "metrics { calls costUsd } } } }",
        BY_MODEL_AND_TASK,
        lambda d: {
            (model, task, calls, money(cost))
            for model, task, calls, cost in zip(
                *[c["values"] for c in d["usage"]["columns"]["dimensions"]],
                d["usage"]["columns"]["metrics"]["calls"],
                d["usage"]["columns"]["metrics"]["costUsd"],
                strict=True,
            )
        },
        summed_by_model_and_task,
    ),
    "usageTimeSeries(DAY)": Query(
        "{ usageTimeSeries(filter: $f, interval: DAY) { buckets { start metrics { calls costUsd } } } }",
        f"SELECT date_trunc('day', occurred_at, 'UTC'), count(*), coalesce(sum(cost_usd), 0) FROM usage_events "
        f"WHERE {WHERE} GROUP BY 1",
        lambda d: {
            metric_row((datetime.fromisoformat(b["start"]),), b["metrics"])
            for b in d["usageTimeSeries"]["buckets"]
            if b["metrics"]["calls"]
        },
        lambda rs: as_rows(
            summed_by(
                rs, lambda r: (r["occurred_at"].astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0),)
            )
        ),
    ),
    "usageTimeSeries(HOUR, PROVIDER)": Query(
        "{ usageTimeSeries(filter: $f, interval: HOUR, groupBy: [PROVIDER]) { buckets { start "
        "groups { provider: value(dimension: PROVIDER) metrics { calls costUsd } } } } }",
        f"SELECT date_trunc('hour', occurred_at, 'UTC'), provider, count(*), coalesce(sum(cost_usd), 0) "
        f"FROM usage_events WHERE {WHERE} GROUP BY 1, 2",
        lambda d: {
            metric_row((datetime.fromisoformat(b["start"]), g["provider"]), g["metrics"])
            for b in d["usageTimeSeries"]["buckets"]
            for g in b["groups"]
        },
        lambda rs: as_rows(summed_by(rs, lambda r: (hour(r["occurred_at"].astimezone(UTC)), r["provider"]))),
    ),
    "usageTimeSeries(HOUR, PROVIDER) columns": Query(
        "{ usageTimeSeries(filter: $f, interval: HOUR, groupBy: [PROVIDER]) { columns { starts "
        "groups { dimensions { value } metrics { calls costUsd } } } } }",
        f"SELECT date_trunc('hour', occurred_at, 'UTC'), provider, count(*), coalesce(sum(cost_usd), 0) "
        f"FROM usage_events WHERE {WHERE} GROUP BY 1, 2",
        lambda d: {
            (datetime.fromisoformat(start), g["dimensions"][0]["value"], calls, money(cost))
            for g in d["usageTimeSeries"]["columns"]["groups"]
            for start, calls, cost in zip(
                d["usageTimeSeries"]["columns"]["starts"], g["metrics"]["calls"], g["metrics"]["costUsd"], strict=True
            )
            if calls
        },
        lambda rs: as_rows(summed_by(rs, lambda r: (hour(r["occurred_at"].astimezone(UTC)), r["provider"]))),
    ),
    "topUsers": Query(
        "{ topUsers(filter: $f, limit: 10) { userId metrics { calls costUsd } } }",
        f"SELECT user_id, count(*), coalesce(sum(cost_usd), 0) FROM usage_events WHERE {WHERE} "
        "AND user_id IS NOT NULL GROUP BY user_id ORDER BY 3 DESC, 2 DESC, 1 LIMIT 10",
        lambda d: {metric_row((u["userId"],), u["metrics"]) for u in d["topUsers"]},
        top_users,
    ),
}


PERCENTILE_QUERIES = {
    "usageAnalytics p95 (overview tiles)": Query(
        "{ usageAnalytics(filter: $f) { totals { calls costUsd p95DurationMs } } }",
        f"SELECT '*', count(*), coalesce(sum(cost_usd), 0), percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) "
        f"FROM usage_events WHERE {WHERE}",
        lambda d: {metric_row(("*",), d["usageAnalytics"]["totals"])},
        lambda rs: as_rows(summed_by(rs, lambda r: ("*",))),
        lambda d: {("*",): d["usageAnalytics"]["totals"]["p95DurationMs"]},
    ),
    "usage(PROVIDER, MODEL) by p95 (performance)": Query(
        "{ usage(filter: $f, groupBy: [PROVIDER, MODEL], orderBy: {by: P95_DURATION_MS, direction: DESC}, "
        "limit: 50) { groups { dimensions { value } metrics { calls costUsd p50DurationMs p95DurationMs "
        "p50TimeToFirstTokenMs p95TimeToFirstTokenMs } } } }",
        f"SELECT provider, model, count(*), coalesce(sum(cost_usd), 0), percentile_cont(ARRAY[0.5, 0.95]) WITHIN "
        f"GROUP (ORDER BY duration_ms), percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY "
        f"time_to_first_token_ms), percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FROM usage_events "
        f"WHERE {WHERE} GROUP BY provider, model",
        lambda d: {metric_row(tuple(x["value"] for x in g["dimensions"]), g["metrics"]) for g in d["usage"]["groups"]},
        lambda rs: as_rows(summed_by(rs, lambda r: (r["provider"], r["model"]))),
        lambda d: {
            tuple(x["value"] for x in g["dimensions"]): g["metrics"]["p95DurationMs"] for g in d["usage"]["groups"]
        },
    ),
    "usageTimeSeries(DAY) p95 (performance)": Query(
        "{ usageTimeSeries(filter: $f, interval: DAY) { buckets { start metrics { calls costUsd p50DurationMs "
        "p95DurationMs p50TimeToFirstTokenMs p95TimeToFirstTokenMs } } } }",
        f"SELECT date_trunc('day', occurred_at, 'UTC'), count(*), coalesce(sum(cost_usd), 0), "
        f"percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY time_to_first_token_ms), "
        f"percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FROM usage_events WHERE {WHERE} GROUP BY 1",
        lambda d: {
            metric_row((datetime.fromisoformat(b["start"]),), b["metrics"])
            for b in d["usageTimeSeries"]["buckets"]
            if b["metrics"]["calls"]
        },
        lambda rs: as_rows(
            summed_by(
                rs, lambda r: (r["occurred_at"].astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0),)
            )
        ),
        lambda d: {
            (datetime.fromisoformat(b["start"]),): b["metrics"]["p95DurationMs"]
            for b in d["usageTimeSeries"]["buckets"]
            if b["metrics"]["calls"]
        },
    ),
}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def plain_rows(records: list[asyncpg.Record] | list[tuple[Any, ...]]) -> Rows:
    return {(*r[:-2], r[-2], money(r[-1])) for r in records}


async def api_data(http: httpx.AsyncClient, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = (await http.post("/graphql", json={"query": document, "variables": variables})).json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def within_two_percent(name: str, approximate: dict[tuple[Any, ...], float], records: list[asyncpg.Record]) -> float:
    """The largest relative error of the API's p95 against percentile_cont's (the plain SQL's last column)."""
    exact = {tuple(r[: len(next(iter(approximate)))]): r[-1] for r in records}
    assert exact.keys() == approximate.keys(), name
    worst = max(abs(approximate[k] - exact[k]) / exact[k] for k in exact)
    assert worst <= 0.02, (name, worst)
    return worst


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
            await until_healthy(http)
            variables = {"f": {"workspaceId": "w0", "from": WINDOW[0].isoformat(), "to": WINDOW[1].isoformat()}}
            moved = [moment + timedelta(seconds=1) for moment in WINDOW]
            off_the_day = {"f": {"workspaceId": "w0", "from": moved[0].isoformat(), "to": moved[1].isoformat()}}
            loads: list[float] = []
            for _ in range(max(3, RUNS // 10)):
                started = time.perf_counter()
                records = await connection.fetch(f"SELECT * FROM usage_events WHERE {WHERE}", workspace, *WINDOW)
                loads.append(time.perf_counter() - started)
            print(
                f"window: {len(records):,} events of the largest workspace; loading them: p50 {percentiles(loads)[0]:.0f} ms"
            )
            for name, query in {**QUERIES, **PERCENTILE_QUERIES}.items():
                document = "query($f: UsageFilter!) " + query.graphql
                plain, summing, samples, from_events = [], [], [], []
                for _ in range(RUNS):
                    started = time.perf_counter()
                    plain_records = await connection.fetch(query.plain_sql, workspace, *WINDOW)
                    plain.append(time.perf_counter() - started)
                keys = len(plain_records[0]) - 2
                if query.p95 is not None:  # after the key, calls and cost: percentile arrays, then the exact p95
                    keys = len(next(iter(query.p95(await api_data(http, document, variables)))))
                plain_answer = plain_rows([tuple(r)[: keys + 2] for r in plain_records])
                for _ in range(max(3, RUNS // 10)):
                    started = time.perf_counter()
                    summed_answer = query.summed(records)
                    summing.append(time.perf_counter() - started)
                for _ in range(RUNS):
                    started = time.perf_counter()
                    body = (await http.post("/graphql", json={"query": document, "variables": variables})).json()
                    samples.append(time.perf_counter() - started)
                    peak = max(peak, process.memory_info().rss)
                assert "errors" not in body, body
                api_answer = query.api_rows(body["data"])
                assert api_answer == plain_answer == summed_answer, (name, len(api_answer), len(plain_answer))
                p50, p95 = percentiles(samples)
                plain_p50 = percentiles(plain)[0]
                load_and_sum = percentiles(loads)[0] + percentiles(summing)[0]
                print(
                    f"{name:32s} API p50 {p50:7.1f} ms p95 {p95:7.1f} ms | GROUP BY p50 {plain_p50:7.1f} ms "
                    f"x{plain_p50 / p50:6.2f} | load-and-sum {load_and_sum:7.0f} ms x{load_and_sum / p50:6.1f} "
                    f"| {len(api_answer):,} rows, equal"
                )
                if query.p95 is not None:
                    worst = within_two_percent(name, query.p95(body["data"]), plain_records)
                    for _ in range(RUNS):
                        started = time.perf_counter()
                        answer = await http.post("/graphql", json={"query": document, "variables": off_the_day})
                        from_events.append(time.perf_counter() - started)
                        assert "errors" not in answer.json()
                    events_p50, events_p95 = percentiles(from_events)
                    print(
                        f"{'':32s} the same 1 s off the UTC day (split: days + 1 s edges): p50 {events_p50:7.1f} ms "
                        f"p95 {events_p95:7.1f} ms, x{events_p50 / p50:4.1f} the whole days'; p95 within {worst:.2%} of percentile_cont"
                    )
        print(
            f"server peak RSS {peak / 1e6:.0f} MB; machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB"
        )
    finally:
        server.terminate()
        server.wait(20)
        await connection.close()


# The dashboard's presets end at the next whole minute: 30 days to 15:13 UTC, split into whole days from the
# rollups and the two edges (a day of events in all) from usage_events (modules/usage/analytics/split.py).
UNALIGNED = (WINDOW[0] - timedelta(hours=8, minutes=47), WINDOW[1] - timedelta(hours=8, minutes=47))
OVERVIEW_SUMS = MetricNeeds(duration_percentiles=False, ttft_percentiles=False, distinct_users=False)
OVERVIEW_P95 = MetricNeeds(ttft_percentiles=False, distinct_users=False, sums=frozenset())


async def compare_split_windows(dsn: str) -> None:
    """The overview's readers over an unaligned 30-day window: split (days from the rollups, edges from the
    events) against the events alone, in one run and one process; answers checked equal (p95 within 2%)."""
    engine = create_async_engine(dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
    readers = UsageAggregates(), SeriesReader()
    try:
        async with AsyncSession(engine) as session:
            workspace = (await session.execute(text("SELECT id FROM workspaces WHERE slug = 'w0'"))).scalar_one()
            unaligned = UsageFilterSpec(workspace_id=workspace, start=UNALIGNED[0], end=UNALIGNED[1])
            aligned = replace(unaligned, start=WINDOW[0], end=WINDOW[1])
            by_provider = GroupBy((UsageDimension.PROVIDER,))

            def series(spec: UsageFilterSpec, source: Source | None) -> Any:
                bounds = boundaries(spec.start or NOW, spec.end or NOW, TimeInterval.DAY, ZoneInfo("UTC"))
                return readers[1].series(session, spec, bounds, by_provider, OVERVIEW_SUMS, source)

            asked: dict[str, Callable[[UsageFilterSpec, Source | None], Any]] = {
                "usageAnalytics (overview sums)": lambda f, s: readers[0].breakdown(session, f, OVERVIEW_SUMS, s),
                "usageAnalytics totals p95": lambda f, s: readers[0].totals(session, f, OVERVIEW_P95, s),
                "usageTimeSeries(DAY, PROVIDER)": series,
            }
            ways = {"split": (unaligned, None), "events": (unaligned, EVENTS_SOURCE), "aligned": (aligned, None)}
            print(f"unaligned 30-day window {UNALIGNED[0]:%m-%d %H:%M} .. {UNALIGNED[1]:%m-%d %H:%M} UTC:")
            for name, read in asked.items():
                timings: dict[str, list[float]] = {way: [] for way in ways}
                answers: dict[str, Any] = {}
                for _ in range(max(5, RUNS // 5)):
                    for way, (spec, source) in ways.items():
                        started = time.perf_counter()
                        answers[way] = await read(spec, source)
                        timings[way].append(time.perf_counter() - started)
                assert same_answer(answers["split"], answers["events"]), name
                split, events = percentiles(timings["split"]), percentiles(timings["events"])
                whole_days = percentiles(timings["aligned"])[0]
                print(
                    f"  {name:32s} split p50 {split[0]:7.1f} ms p95 {split[1]:7.1f} ms | events only p50 "
                    f"{events[0]:7.1f} ms p95 {events[1]:7.1f} ms x{events[0] / split[0]:5.1f}, equal "
                    f"| whole days (rollups alone) p50 {whole_days:7.1f} ms"
                )
    finally:
        await engine.dispose()


def same_answer(split: Any, events: Any) -> bool:
    """Equal, but percentiles within 2% (the histograms' bound)."""
    if isinstance(split, list | tuple):
        return len(split) == len(events) and all(map(same_answer, split, events))
    if isinstance(split, float) and isinstance(events, float):
        return abs(split - events) <= 0.02 * abs(events)
    if hasattr(split, "__dataclass_fields__"):
        return all(same_answer(getattr(split, f), getattr(events, f)) for f in split.__dataclass_fields__)
    return bool(split == events)


def seeded_database(prefix: str) -> tuple[str, str]:
    """A started PostgreSQL holding EVENTS seeded events, its DSN and a READ key of w0 (the largest workspace).
    With BENCH_DATA_DIR the database is kept there and reused by the next run (of this bench or
    bench/dashboard.py); without it, seeded into a temporary directory removed at exit."""
    kept = os.environ.get("BENCH_DATA_DIR")
    data_dir = Path(kept) if kept else Path(tempfile.mkdtemp(prefix=prefix))
    url = start_embedded_postgres(data_dir, temporary=not kept)
    marker = data_dir / "seeded"
    if not marker.exists():
        dsn, key = asyncio.run(seed(url))
        marker.write_text(f"{dsn} {key} {EVENTS}")
        return dsn, key
    dsn, key, seeded = marker.read_text().split()
    if int(seeded) != EVENTS:
        raise SystemExit(f"{data_dir} holds {int(seeded):,} events, not {EVENTS:,}: give another BENCH_DATA_DIR")
    return dsn, key


def main() -> None:
    dsn, key = seeded_database("llm-usage-bench-")
    if not os.environ.get("BENCH_SPLIT_ONLY"):
        asyncio.run(compare(dsn, key))
    asyncio.run(compare_split_windows(dsn))


if __name__ == "__main__":
    main()
