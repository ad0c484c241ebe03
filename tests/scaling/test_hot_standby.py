"""DATABASE_READ_URL on a real hot standby (pg_basebackup -R of the suite's primary), through a live server: every
analytics read answers there (a standby refuses any write, so none of them writes), ingestion and the primary's
reads (sessions, budgets) stay on the primary, and /readyz shows the replica's lag."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.live_server import LiveServer, LiveWorkspace, free_port, live_workspace, serving
from tests.scaling.conftest import received, replayed
from tests.scaling.standby import HotStandby

TRACK = "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { duplicate event { costUsd } } }"
WINDOW = '{workspaceId: "%s", from: "2025-06-01T00:00:00Z", to: "2025-06-03T00:00:00Z"}'
EVENTS = [  # costs given by the caller: exact decimals whatever the catalogue says
    {"requestId": "r1", "userId": "alice", "sessionId": "s1", "provider": "openai", "model": "gpt-4o",
     "promptTokens": 100, "completionTokens": 20, "costUsd": "0.5", "occurredAt": "2025-06-01T10:00:00Z"},
    {"requestId": "r2", "userId": "bob", "provider": "anthropic", "model": "claude-sonnet-4",
     "promptTokens": 10, "completionTokens": 5, "costUsd": "0.25", "occurredAt": "2025-06-01T11:00:00Z"},
    {"requestId": "r3", "provider": "openai", "model": "no-such-model-19",
     "promptTokens": 1, "completionTokens": 1, "occurredAt": "2025-06-02T09:00:00Z"},
]  # fmt: skip


@pytest.fixture(scope="module")
async def acme(engine: AsyncEngine) -> AsyncIterator[LiveWorkspace]:
    async with live_workspace(engine) as created:
        yield created


@pytest.fixture(scope="module")
def server(engine: AsyncEngine, hot_standby: HotStandby, acme: LiveWorkspace) -> Iterator[LiveServer]:
    read_url = hot_standby.url(str(engine.url.database))
    with serving(engine, database_read_url=read_url, webhooks_enabled=False) as live:
        for event in EVENTS:
            assert track(live, acme, event) == {"duplicate": False, "event": {"costUsd": event.get("costUsd")}}
        yield live


def post_raw(server: LiveServer, key: str, query: str, **variables: Any) -> httpx.Response:
    return httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


def track(server: LiveServer, ws: LiveWorkspace, event: dict[str, Any]) -> dict[str, Any]:
    return server.graphql(ws.key, TRACK, input={"workspaceId": ws.slug, **event})["trackUsage"]


def replica_reads(server: LiveServer, ws: LiveWorkspace) -> dict[str, Any]:
    """Every read DATABASE_READ_URL serves, reduced to exact figures."""
    window = WINDOW % ws.slug
    data = server.graphql(
        ws.key,
        f"""{{
          usageAnalytics(filter: {window}) {{ totals {{ calls promptTokens costUsd }} byModel {{ key metrics {{ calls }} }} }}
          usage(filter: {window}, groupBy: [PROVIDER]) {{ groups {{ value(dimension: PROVIDER) metrics {{ calls costUsd }} }} }}
          usageTimeSeries(filter: {window}, interval: DAY) {{ buckets {{ start metrics {{ calls costUsd }} }} }}
          usageEvents(filter: {window}, first: 10) {{ edges {{ node {{ requestId }} }} }}
          topUsers(filter: {window}) {{ userId metrics {{ costUsd }} }}
          user(workspaceId: "{ws.slug}", userId: "alice") {{ metrics {{ calls promptTokens }} }}
          unpricedModels(filter: {window}) {{ model calls }}
        }}""",
    )
    export = httpx.get(
        f"{server.url}/export/usage.csv",
        params={"workspaceId": ws.slug, "from": "2025-06-01T00:00:00Z", "to": "2025-06-03T00:00:00Z"},
        headers={"Authorization": f"Bearer {ws.key}"},
        timeout=30,
    )
    assert export.status_code == 200, export.text
    return {
        "totals": data["usageAnalytics"]["totals"],
        "byModel": sorted((g["key"], g["metrics"]["calls"]) for g in data["usageAnalytics"]["byModel"]),
        "byProvider": sorted(
            (g["value"], g["metrics"]["calls"], g["metrics"]["costUsd"]) for g in data["usage"]["groups"]
        ),
        "days": [
            (b["start"], b["metrics"]["calls"], b["metrics"]["costUsd"]) for b in data["usageTimeSeries"]["buckets"]
        ],
        "events": [e["node"]["requestId"] for e in data["usageEvents"]["edges"]],
        "topUsers": [(u["userId"], u["metrics"]["costUsd"]) for u in data["topUsers"]],
        "alice": data["user"]["metrics"],
        "unpriced": data["unpricedModels"],
        "export": sorted(row["requestId"] for row in csv.DictReader(io.StringIO(export.text))),
    }


REPLAYED_THREE = {
    "totals": {"calls": 3, "promptTokens": 111, "costUsd": "0.75"},
    "byModel": [("claude-sonnet-4", 1), ("gpt-4o", 1), ("no-such-model-19", 1)],
    "byProvider": [("anthropic", 1, "0.25"), ("openai", 2, "0.5")],
    "days": [("2025-06-01T00:00:00+00:00", 2, "0.75"), ("2025-06-02T00:00:00+00:00", 1, "0")],
    "events": ["r3", "r2", "r1"],
    "topUsers": [("alice", "0.5"), ("bob", "0.25")],
    "alice": {"calls": 1, "promptTokens": 100},
    "unpriced": [{"model": "no-such-model-19", "calls": 1}],
    "export": ["r1", "r2", "r3"],
}


async def caught_up(server: LiveServer) -> dict[str, Any]:
    """/readyz's replica once its lag reads 0 (a write the standby has received but not yet replayed, such as
    autovacuum's, reads as the time since the last replayed commit for the milliseconds its replay takes)."""
    for _ in range(100):
        replica: dict[str, Any] = readyz(server)["replica"]
        if replica.get("lagSeconds") == 0:
            return replica
        await asyncio.sleep(0.05)
    return replica


def readyz(server: LiveServer) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/readyz", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


async def test_every_analytics_read_answers_on_the_read_only_standby(server, acme, engine, standby_engine):
    await replayed(engine, standby_engine)
    async with standby_engine.connect() as connection:  # a standby indeed: it would refuse any write
        assert (await connection.execute(text("SELECT pg_is_in_recovery()"))).scalar() is True
    assert replica_reads(server, acme) == REPLAYED_THREE
    assert await caught_up(server) == {"status": "ready", "lagSeconds": 0.0}


async def test_reads_lag_while_replay_is_paused_and_writes_and_primary_reads_stay_on_the_primary(
    server, acme, engine, standby_engine
):
    await replayed(engine, standby_engine)
    async with standby_engine.connect() as connection:
        await connection.execute(text("SELECT pg_wal_replay_pause()"))
    try:
        await asyncio.sleep(1.0)  # the standby's last replayed commit is now at least 1 s old
        later = {"requestId": "r4", "userId": "alice", "sessionId": "s1", "provider": "openai", "model": "gpt-4o",
                 "promptTokens": 7, "completionTokens": 1, "costUsd": "1", "occurredAt": "2025-06-02T10:00:00Z"}  # fmt: skip
        assert track(server, acme, later) == {"duplicate": False, "event": {"costUsd": "1"}}  # on the primary
        budget = f'{{workspaceId: "{acme.slug}", name: "while paused", limitUsd: "10"}}'
        server.graphql(acme.admin_key, f"mutation {{ createBudget(input: {budget}) {{ budget {{ id }} }} }}")
        await received(engine, standby_engine)  # the standby holds the WAL but has not applied it

        assert replica_reads(server, acme) == REPLAYED_THREE  # every analytics read is the standby's
        primary = server.graphql(
            acme.key,
            f"""{{ sessions(filter: {WINDOW % acme.slug}) {{ edges {{ node {{ id calls costUsd }} }} }}
                   budgets(workspaceId: "{acme.slug}") {{ name limitUsd }} }}""",
        )
        assert primary == {  # sessions and budgets read the primary: no lag
            "sessions": {"edges": [{"node": {"id": "s1", "calls": 2, "costUsd": "1.5"}}]},
            "budgets": [{"name": "while paused", "limitUsd": "10"}],
        }
        lag = readyz(server)["replica"]
        assert lag["status"] == "ready" and 1.0 <= lag["lagSeconds"] < 120, lag
    finally:
        async with standby_engine.connect() as connection:
            await connection.execute(text("SELECT pg_wal_replay_resume()"))
    await replayed(engine, standby_engine)
    replayed_four = replica_reads(server, acme)
    assert replayed_four["totals"] == {"calls": 4, "promptTokens": 118, "costUsd": "1.75"}
    assert replayed_four["events"] == ["r4", "r3", "r2", "r1"]
    assert replayed_four["topUsers"] == [("alice", "1.5"), ("bob", "0.25")]
    assert await caught_up(server) == {"status": "ready", "lagSeconds": 0.0}


async def test_an_unreachable_replica_leaves_the_process_ready_and_ingesting(engine, acme, hot_standby):
    """Analytics fail typed (UNAVAILABLE, retryable: service/http_errors.py's 503, never a masked INTERNAL) while the
    replica is down; ingestion goes on and the process stays ready."""
    nowhere = f"postgresql+asyncpg://postgres@/{engine.url.database}?host={hot_standby.socket_dir}&port={free_port()}"
    with serving(engine, database_read_url=nowhere, webhooks_enabled=False) as live:
        state = readyz(live)
        assert state["status"] == "ready"
        assert state["replica"]["status"] == "unavailable"
        assert track(live, acme, {"requestId": "r-down", "provider": "openai", "model": "gpt-4o",
                                  "promptTokens": 1, "completionTokens": 1, "costUsd": "0.01",
                                  "occurredAt": "2025-07-01T00:00:00Z"})["duplicate"] is False  # fmt: skip
        response = post_raw(
            live, acme.key, f'{{ usageAnalytics(filter: {{workspaceId: "{acme.slug}"}}) {{ totals {{ calls }} }} }}'
        )
        assert response.status_code == 503, response.text
        codes = [(e["extensions"]["code"], e["extensions"]["retryable"]) for e in response.json()["errors"]]
        assert codes == [("UNAVAILABLE", True)], response.json()
