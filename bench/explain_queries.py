"""Print the plan of every SQL statement the dashboard queries run, on a seeded database.

    DATABASE_URL=… .venv/bin/python bench/explain_queries.py     (default: a throw-away embedded Postgres)

It seeds two workspaces (EXPLAIN_EVENTS events each, default 20,000) through trackUsageBatch, ANALYZEs, then
runs each GraphQL query in-process, capturing its statements, and prints `EXPLAIN (ANALYZE, BUFFERS)` of
each. The indexes each query uses are read off these plans.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine

from modules.core.principal import Principal, Scope
from service.app import create_app
from service.config import Settings
from service.container import ApplicationContainer
from service.context import provide
from service.database import asyncpg_url, start_embedded_postgres
from service.migrations import upgrade_to_head

EVENTS = int(os.environ.get("EXPLAIN_EVENTS", "20000"))
WINDOW = {"workspaceId": "big", "from": "2026-10-01T00:00:00Z", "to": "2026-10-31T00:00:00Z"}
QUERIES: dict[str, tuple[str, dict[str, Any]]] = {
    "usageAnalytics": (
        "query($f: UsageFilter!) { usageAnalytics(filter: $f) { totals { calls } byModel { key } } }",
        {"f": WINDOW},
    ),
    "usage(MODEL, TASK_TYPE)": (
        "query($f: UsageFilter!) { usage(filter: $f, groupBy: [MODEL, TASK_TYPE], limit: 5) { groups { metrics { calls } } others { calls } } }",
        {"f": WINDOW},
    ),
    "usageTimeSeries(DAY)": (
        "query($f: UsageFilter!) { usageTimeSeries(filter: $f, interval: DAY) { buckets { metrics { calls } } } }",
        {"f": WINDOW},
    ),
    "usageTimeSeries(HOUR, PROVIDER)": (
        "query($f: UsageFilter!) { usageTimeSeries(filter: $f, interval: HOUR, groupBy: [PROVIDER]) { buckets { metrics { calls } } } }",
        {"f": WINDOW},
    ),
    "topUsers": ("query($f: UsageFilter!) { topUsers(filter: $f) { userId user { displayName } } }", {"f": WINDOW}),
    "user filter": (
        "query($f: UsageFilter!) { usageAnalytics(filter: $f) { totals { calls } } }",
        {"f": {**WINDOW, "userId": "user-7"}},
    ),
    "usageEvents": (
        "query($f: UsageFilter!) { usageEvents(filter: $f, first: 50) { edges { cursor } } }",
        {"f": WINDOW},
    ),
    "sessions + events": (
        "query($f: UsageFilter!) { sessions(filter: $f, first: 10) { edges { node { id events { id } } } } }",
        {"f": WINDOW},
    ),
}


def seed_inputs(workspace: str, count: int) -> list[dict[str, Any]]:
    rng = random.Random(workspace)
    return [
        {
            "workspaceId": workspace,
            "provider": rng.choice(["openai", "anthropic", "mistral"]),
            "model": rng.choice(["gpt-4o", "gpt-4o-mini", "claude-3-5-haiku-latest", "mistral-small-latest"]),
            "taskType": rng.choice(["chat", "summarize", "classify"]),
            "userId": f"user-{rng.randrange(300)}",
            "sessionId": f"s-{i // 6}",
            "promptTokens": rng.randrange(100, 3000),
            "completionTokens": rng.randrange(10, 500),
            "durationMs": rng.randrange(100, 5000),
            "occurredAt": f"2026-{rng.choice([8, 9, 10]):02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:00:00Z",
        }
        for i in range(count)
    ]


async def main() -> None:
    url = (
        asyncpg_url(os.environ["DATABASE_URL"])
        if os.environ.get("DATABASE_URL")
        else start_embedded_postgres(Path(tempfile.mkdtemp(prefix="llm-usage-explain-")), temporary=True)
    )
    engine = create_async_engine(url)
    await upgrade_to_head(engine)
    container = ApplicationContainer()
    container.settings.override(Settings(database_url=url, max_event_age_days=3650))
    access = await provide(container.access.service())
    workspaces = await provide(container.workspaces.service())
    for slug in ("big", "other"):
        await workspaces.create(Principal.system(), name=slug, slug=slug)
    key = (await access.create(Principal.system(), workspace_ref=None, name="explain", scopes=[Scope.ADMIN])).secret
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://x", headers={"Authorization": f"Bearer {key}"}, timeout=120
    ) as http:
        for slug in ("big", "other"):
            inputs = seed_inputs(slug, EVENTS)
            for start in range(0, len(inputs), 1000):
                r = await http.post(
                    "/graphql",
                    json={
                        "query": "mutation($i: [TrackUsageInput!]!) { trackUsageBatch(inputs: $i) { insertedCount } }",
                        "variables": {"i": inputs[start : start + 1000]},
                    },
                )
                assert "errors" not in r.json(), r.text[:300]
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
        database = await provide(container.database())
        captured: list[tuple[str, Any]] = []

        def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
            captured.append((statement, parameters))

        for name, (query, variables) in QUERIES.items():
            captured.clear()
            event.listen(database.engine.sync_engine, "before_cursor_execute", capture)
            response = await http.post("/graphql", json={"query": query, "variables": variables})
            event.remove(database.engine.sync_engine, "before_cursor_execute", capture)
            assert "errors" not in response.json(), response.text[:300]
            print(f"\n===== {name}")
            for statement, parameters in captured:
                if "api_keys" in statement or "FROM workspaces" in statement:
                    continue
                raw = await database.engine.raw_connection()
                try:
                    driver = raw.driver_connection
                    plan = await driver.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, *parameters)
                finally:
                    raw.close()
                print("--", " ".join(statement.split())[:160])
                print("\n".join(row[0] for row in plan))
    await engine.dispose()


asyncio.run(main())
