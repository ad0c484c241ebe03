"""What one trackUsage sends to PostgreSQL, counted on the driver's connections of a real pool (not the tests'
shared rolled-back connection): no ping before each checkout, the price overrides read in the storing
transaction, and every round trip listed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import asyncpg
import httpx
import pytest
from asyncpg.prepared_stmt import PreparedStatement
from dependency_injector import providers
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from modules.core.principal import Principal, Scope
from service.app import create_app
from service.container import ApplicationContainer
from service.context import provide
from tests.conftest import TEST_SETTINGS

TRACK = "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { duplicate event { costUsd } } }"


class Statements:
    """Every statement the asyncpg connections run: simple queries (BEGIN, COMMIT…) and prepared ones."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[str] = []
        self.recording = False
        execute, fetch = asyncpg.Connection.execute, PreparedStatement.fetch
        fetchrow = asyncpg.Connection.fetchrow

        async def recorded_execute(connection: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
            self.note(query)
            return await execute(connection, query, *args, **kwargs)

        async def recorded_fetchrow(connection: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
            self.note(query)
            return await fetchrow(connection, query, *args, **kwargs)

        async def recorded_fetch(statement: PreparedStatement, *args: Any, **kwargs: Any) -> Any:
            self.note(statement.get_query())
            return await fetch(statement, *args, **kwargs)

        monkeypatch.setattr(asyncpg.Connection, "execute", recorded_execute)
        monkeypatch.setattr(asyncpg.Connection, "fetchrow", recorded_fetchrow)
        monkeypatch.setattr(PreparedStatement, "fetch", recorded_fetch)

    def note(self, query: str) -> None:
        if self.recording:
            self.sent.append(" ".join(query.split())[:40])


@pytest.fixture
async def pooled(engine: AsyncEngine) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The app on its own engine and pool over the tests' database; what it commits, in a workspace of its own,
    is deleted after (every table cascades from the workspace), so tests counting all rows see none of it."""
    database_url = engine.url.render_as_string(hide_password=False)
    container = ApplicationContainer()
    container.settings.override(providers.Object(replace(TEST_SETTINGS, database_url=database_url)))
    slug = f"statements-{uuid.uuid4().hex[:8]}"
    await (await provide(container.workspaces.service())).create(Principal.system(), name=slug, slug=slug)
    access = await provide(container.access.service())
    key = (
        await access.create(Principal.system(), workspace_ref=slug, name="k", scopes=[Scope.INGEST, Scope.READ])
    ).secret
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://x", headers={"Authorization": f"Bearer {key}"}
    ) as http:
        yield http, slug
    await provide(container.shutdown_resources())
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM workspaces WHERE slug = :slug"), {"slug": slug})


async def test_a_single_call_is_one_transaction_without_pings(pooled, monkeypatch):
    http, slug = pooled
    statements = Statements(monkeypatch)

    async def track(number: int) -> dict[str, Any]:
        given = {"workspaceId": slug, "provider": "openai", "model": "gpt-4o-mini", "promptTokens": 1000}
        given |= {"completionTokens": 200, "userId": "alice", "requestId": f"r-{number}"}
        response = await http.post("/graphql", json={"query": TRACK, "variables": {"input": given}})
        return response.json()

    assert (await track(0))["data"]["trackUsage"]["duplicate"] is False  # warm: key, workspace, statements
    statements.recording = True
    assert await track(1) == {"data": {"trackUsage": {"duplicate": False, "event": {"costUsd": "0.00027"}}}}
    statements.recording = False
    # was 18: a ping (BEGIN; ;ROLLBACK) before each of two checkouts, and the overrides in a transaction of their own;
    # the four rollups are one statement reading the events once, planned for its ids (never a generic plan made on
    # an empty table)
    assert statements.sent == [
        "BEGIN;",
        "SELECT model_prices.id, model_prices.wor",
        "WITH given AS MATERIALIZED (SELECT nextv",  # claims the keys, inserts the events
        "INSERT INTO users (workspace_id, externa",
        "SELECT pg_notify($1, $2)",
        "SELECT set_config($1, $2, true)",
        "WITH batch AS MATERIALIZED (SELECT * FRO",
        "SELECT budgets.id, budgets.workspace_id,",
        "COMMIT;",
    ]


async def test_an_analytics_read_sets_its_planner_settings_first(pooled, monkeypatch):
    """Its transaction plans for the values and sorts in memory (modules/usage/analytics/reading.py) before its
    one statement: totals and breakdowns in one GROUPING SETS query."""
    http, slug = pooled
    statements = Statements(monkeypatch)
    query = "query($w: ID!) { usageAnalytics(filter: {workspaceId: $w}) { totals { calls } } }"

    async def read() -> dict[str, Any]:
        return (await http.post("/graphql", json={"query": query, "variables": {"w": slug}})).json()

    assert (await read())["data"]["usageAnalytics"]["totals"] == {"calls": 0}  # warm: key, workspace, statements
    statements.recording = True
    assert await read() == {"data": {"usageAnalytics": {"totals": {"calls": 0}}}}
    statements.recording = False
    assert statements.sent[:2] == ["BEGIN;", "SELECT set_config($1, $2, true), set_con"]
    assert [s.split(" ")[0] for s in statements.sent] == ["BEGIN;", "SELECT", "SELECT", "ROLLBACK;"]
