"""Two live service instances behind Debian's PgBouncer in transaction mode (3 server connections for all their
clients), DATABASE_POOLER=pgbouncer: ingestion single and batched, budgets and their alerts counted once, a
subscription on one instance hearing an event tracked through the other (LISTEN on DATABASE_LISTEN_URL, direct),
and statements repeated across shared server connections (no named prepared statement to clash or go missing)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect as websocket_connect

from service.database import connect
from tests.live_server import LiveServer, LiveWorkspace, live_workspace
from tests.scaling.pgbouncer import SERVER_CONNECTIONS, PgBouncer
from tests.scaling.standby import postgres_binary

TRACK = "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { duplicate event { requestId } } }"
BATCH = "mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs) { insertedCount duplicateCount } }"


@pytest.fixture(scope="module")
def pair(engine: AsyncEngine, pgbouncer: PgBouncer) -> Iterator[tuple[LiveServer, LiveServer]]:
    pooled = {
        "database_pooler": "pgbouncer",
        "database_listen_url": engine.url.render_as_string(hide_password=False),  # the primary, direct
        "webhooks_enabled": False,
    }
    with serving_through(pgbouncer, engine, **pooled) as a, serving_through(pgbouncer, engine, **pooled) as b:
        yield a, b


@contextlib.contextmanager
def serving_through(pgbouncer: PgBouncer, engine: AsyncEngine, **settings: Any) -> Iterator[LiveServer]:
    """A live server whose DATABASE_URL is PgBouncer's address of the test database."""
    server = LiveServer(pgbouncer.url(str(engine.url.database)), **settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def acme(engine: AsyncEngine) -> AsyncIterator[LiveWorkspace]:
    async with live_workspace(engine) as created:
        yield created


def call(ws: LiveWorkspace, **fields: Any) -> dict[str, Any]:
    return {"workspaceId": ws.slug, "provider": "openai", "model": "gpt-4o", **fields}


def pgbouncer_connections(pgbouncer: PgBouncer, listing: str, database: str) -> int:
    """How many client or server connections (SHOW CLIENTS / SHOW SERVERS) PgBouncer holds for `database` now.
    Its admin console speaks only the simple query protocol: psql's."""
    shown = subprocess.run(
        [str(postgres_binary("psql")), "-X", "-A", "-F", "\t", "-c", f"SHOW {listing}", pgbouncer.admin_dsn],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout.splitlines()  # fmt: skip
    header = shown[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=False)) for line in shown[1:]]
    return sum(1 for row in rows if row.get("database") == database)


async def test_single_and_batched_ingestion_from_two_instances_share_three_server_connections(
    pair, acme, pgbouncer, engine
):
    a, b = pair
    database = str(engine.url.database)
    singles = [(a if i % 2 else b, call(acme, requestId=f"s{i}", promptTokens=10, completionTokens=i, costUsd="0.01"))
               for i in range(40)]  # fmt: skip
    with ThreadPoolExecutor(12) as pool:  # 12 callers at once over 3 server connections
        stored = list(pool.map(lambda sent: sent[0].graphql(acme.key, TRACK, input=sent[1])["trackUsage"], singles))
    assert sorted(s["event"]["requestId"] for s in stored) == sorted(f"s{i}" for i in range(40))
    assert {s["duplicate"] for s in stored} == {False}
    batch = [call(acme, requestId=f"b{i}", promptTokens=100, completionTokens=1, costUsd="0.5") for i in range(5)]
    assert b.graphql(acme.key, BATCH, inputs=batch)["trackUsageBatch"] == {"insertedCount": 5, "duplicateCount": 0}
    assert a.graphql(acme.key, BATCH, inputs=batch)["trackUsageBatch"] == {"insertedCount": 0, "duplicateCount": 5}
    for server in (a, b):  # the same statements again and again on whichever server connection comes
        totals = server.graphql(
            acme.key, f'{{ usageAnalytics(filter: {{workspaceId: "{acme.slug}"}}) '
            "{ totals { calls promptTokens completionTokens costUsd } } }",
        )["usageAnalytics"]["totals"]  # fmt: skip
        assert totals == {"calls": 45, "promptTokens": 900, "completionTokens": 785, "costUsd": "2.9"}
    assert pgbouncer_connections(pgbouncer, "CLIENTS", database) >= 2  # each instance's pool, through PgBouncer
    assert 1 <= pgbouncer_connections(pgbouncer, "SERVERS", database) <= SERVER_CONNECTIONS


async def test_budget_alerts_are_raised_once_across_both_instances(pair, acme):
    a, b = pair
    budget = a.graphql(
        acme.admin_key,
        f'mutation {{ createBudget(input: {{workspaceId: "{acme.slug}", name: "cap", limitUsd: "10"}}) {{ budget {{ id }} }} }}',
    )["createBudget"]["budget"]["id"]  # fmt: skip
    sent = [(a if i % 2 else b, call(acme, requestId=f"spend-{i}", promptTokens=1, completionTokens=1, costUsd="0.5"))
            for i in range(24)]  # fmt: skip
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda s: s[0].graphql(acme.key, TRACK, input=s[1]), sent))
    state = b.graphql(acme.key, f'{{ budget(id: "{budget}") {{ spentUsd exceeded alerts {{ thresholdPercent }} }} }}')
    assert Decimal(state["budget"]["spentUsd"]) == Decimal("12")
    assert state["budget"]["exceeded"] is True
    assert sorted(alert["thresholdPercent"] for alert in state["budget"]["alerts"]) == [50, 80, 100]


async def test_a_subscriber_on_one_instance_hears_an_event_tracked_through_the_other(pair, acme):
    a, b = pair
    async with websocket_connect(b.ws_url, subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {acme.key}"}}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 10)) == {"type": "connection_ack"}
        query = f'subscription {{ usageTracked(filter: {{workspaceId: "{acme.slug}"}}) {{ requestId promptTokens }} }}'
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        for attempt in range(50):  # subscriptions have no acknowledgement: probe until one arrives
            a.graphql(
                acme.key, TRACK, input=call(acme, requestId=f"probe-{attempt}", promptTokens=1, completionTokens=1)
            )
            try:
                first = json.loads(await asyncio.wait_for(socket.recv(), 0.3))
                break
            except TimeoutError:
                continue
        else:
            raise AssertionError("no event reached the subscriber through the LISTEN connection")
        assert first["payload"]["data"]["usageTracked"]["requestId"].startswith("probe-")
        await asyncio.sleep(0.5)  # drain probes still on their way
        while True:
            try:
                await asyncio.wait_for(socket.recv(), 0.3)
            except TimeoutError:
                break
        a.graphql(acme.key, TRACK, input=call(acme, requestId="wanted", promptTokens=42, completionTokens=1))
        message = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert message == {
            "id": "1",
            "type": "next",
            "payload": {"data": {"usageTracked": {"requestId": "wanted", "promptTokens": 42}}},
        }


async def test_pooled_engine_repeats_statements_on_shared_server_connections_in_utc(pgbouncer, engine):
    """30 sessions at once over 3 server connections, each running the same parameterised statements ten times:
    with a statement cache (named statements) they would clash ('prepared statement … already exists') or go
    missing ('… does not exist') as PgBouncer lends each transaction another server connection."""
    database = connect(pgbouncer.url(str(engine.url.database)), pooler="pgbouncer", pool_size=30, max_overflow=0)

    async def repeat(worker: int) -> list[tuple[int, str]]:
        seen = []
        for round_ in range(10):
            async with database.session_factory() as session:
                row = (
                    await session.execute(
                        text("SELECT CAST(:n AS int) * 2, current_setting('TimeZone')"), {"n": worker * 100 + round_}
                    )
                ).one()
                seen.append((row[0], row[1]))
        return seen

    name = str(engine.url.database)
    try:
        answers = await asyncio.gather(*(repeat(worker) for worker in range(30)))
        clients, servers = (pgbouncer_connections(pgbouncer, listing, name) for listing in ("CLIENTS", "SERVERS"))
    finally:
        await database.engine.dispose()
    assert answers == [[((w * 100 + r) * 2, "UTC") for r in range(10)] for w in range(30)]
    assert clients >= 30 and servers <= SERVER_CONNECTIONS, (clients, servers)  # 30 clients shared ≤ 3 servers


MIGRATE = "import asyncio, sys; from service.cli import migrate; from service.config import Settings; " + (
    "asyncio.run(migrate(Settings(database_url=sys.argv[1], database_pooler='pgbouncer', database_listen_url=sys.argv[2])))"
)


def test_two_processes_migrate_one_after_the_other_through_pgbouncer(pgbouncer, engine):
    pooled, direct = pgbouncer.url(str(engine.url.database)), engine.url.render_as_string(hide_password=False)
    for _ in range(2):  # as two `llm-usage serve` starting one after the other
        migrated = subprocess.run(
            [sys.executable, "-c", MIGRATE, pooled, direct], capture_output=True, text=True, timeout=120, check=False
        )
        assert migrated.returncode == 0, migrated.stderr[-2000:]
