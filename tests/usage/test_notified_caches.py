"""Two server processes (two live apps, each with its own pools, caches and LISTEN connection) on one database:
a price or a budget changed through one is used by the other's next calls once its NOTIFY arrives, although
the other keeps both cached (it sends no query for them while nothing changes; the caches' TTL is minutes)."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.live_server import LiveServer, live_workspace, serving
from tests.usage.test_statements_per_call import Statements

TRACK = "mutation($input: TrackUsageInput!) { trackUsage(input: $input) { event { costUsd costSource } } }"
SET_PRICE = "mutation($input: SetModelPriceInput!) { setModelPrice(input: $input) { id } }"
CREATE_BUDGET = "mutation($input: CreateBudgetInput!) { createBudget(input: $input) { budget { id } } }"
AT = "2026-01-15T10:00:00+00:00"
HEARD_WITHIN_S = 5.0  # a NOTIFY takes milliseconds; the caches would keep the old rows for minutes
CATALOG = {"costUsd": "0.0035", "costSource": "CATALOG"}  # gpt-4o: 1,000 x $2.50 + 100 x $10 per million


async def graphql(server: LiveServer, key: str, query: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{server.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
        )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


async def track(server: LiveServer, key: str, slug: str, request_id: str) -> dict[str, Any]:
    given = {"workspaceId": slug, "requestId": request_id, "provider": "openai", "model": "gpt-4o"}
    given |= {"promptTokens": 1000, "completionTokens": 100, "occurredAt": AT}
    return (await graphql(server, key, TRACK, input=given))["trackUsage"]["event"]


async def test_a_price_set_through_one_process_prices_the_other_ones_next_calls(engine: AsyncEngine, monkeypatch):
    async with live_workspace(engine) as workspace:
        with serving(engine) as one, serving(engine) as other:
            key, slug = workspace.key, workspace.slug
            assert await track(one, key, slug, "warm") == CATALOG  # the first call reads the (absent) overrides
            statements = Statements(monkeypatch)
            statements.recording = True
            assert await track(one, key, slug, "cached") == CATALOG
            statements.recording = False
            assert not [s for s in statements.sent if "model_prices" in s or "budgets.id" in s], statements.sent
            assert statements.sent[0] == "BEGIN;" and statements.sent[-1] == "COMMIT;", statements.sent

            price = {"workspaceId": slug, "provider": "openai", "model": "gpt-4o"}
            price |= {"inputPerMillion": "1", "outputPerMillion": "2"}
            await graphql(other, workspace.admin_key, SET_PRICE, input=price)
            deadline, calls = time.monotonic() + HEARD_WITHIN_S, 0
            while (event := await track(one, key, slug, f"after-{calls}"))["costSource"] == "CATALOG":
                calls += 1
                assert time.monotonic() < deadline, f"still the catalogue's price after {calls} calls"
                await asyncio.sleep(0.02)
    assert event == {"costUsd": "0.0012", "costSource": "WORKSPACE_OVERRIDE"}  # 1,000 x $1 + 100 x $2 per million


async def test_a_budget_created_through_one_process_counts_the_other_ones_next_calls(engine: AsyncEngine):
    async with live_workspace(engine) as workspace:
        with serving(engine) as one, serving(engine) as other:
            key, slug = workspace.key, workspace.slug
            assert await track(one, key, slug, "warm") == CATALOG  # no budgets: kept so
            budget = {"workspaceId": slug, "name": "cap", "limitUsd": "10"}
            created = await graphql(other, workspace.admin_key, CREATE_BUDGET, input=budget)
            budget_id = created["createBudget"]["budget"]["id"]
            deadline, calls, counted = time.monotonic() + HEARD_WITHIN_S, 0, None
            while counted is None:
                assert time.monotonic() < deadline, f"no spend counted after {calls} calls"
                assert await track(one, key, slug, f"after-{calls}") == CATALOG
                calls += 1
                counted = await period_of(engine, budget_id)
            # the first call counted starts the period from every event in it (the warm one too): 0.0035 each
            assert counted == Decimal("0.0035") * (calls + 1)


async def period_of(engine: AsyncEngine, budget_id: str) -> Decimal | None:
    """The budget's counted spend, once an ingest has counted an event against it."""
    async with engine.connect() as connection:
        query = text("SELECT spent_usd FROM budget_periods WHERE budget_id = :id")
        return (await connection.execute(query, {"id": budget_id})).scalar()


async def test_a_change_missed_while_the_listen_connection_was_down_is_not_kept(engine: AsyncEngine):
    """A price written straight into the table announces nothing: the cache keeps the old answer until its LISTEN
    connection is lost; the new connection may have missed changes, so what was cached before it is forgotten."""
    async with live_workspace(engine) as workspace:
        with serving(engine) as server:
            key, slug = workspace.key, workspace.slug
            assert await track(server, key, slug, "warm") == CATALOG
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO model_prices (workspace_id, provider, model, effective_from, input_per_million, "
                        "output_per_million) VALUES (:id, 'openai', 'gpt-4o', '1970-01-01Z', 1, 2)"
                    ),
                    {"id": workspace.id},
                )
            assert await track(server, key, slug, "unannounced") == CATALOG  # cached, and no NOTIFY came
            async with engine.begin() as connection:  # the server's LISTEN connection (the only one) is cut
                cut = await connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
                    )
                )
                assert cut.scalars().all() == [True]
            deadline, calls = time.monotonic() + HEARD_WITHIN_S, 0
            while (event := await track(server, key, slug, f"after-{calls}"))["costSource"] == "CATALOG":
                calls += 1
                assert time.monotonic() < deadline, f"still the catalogue's price after {calls} calls"
                await asyncio.sleep(0.02)
    assert event == {"costUsd": "0.0012", "costSource": "WORKSPACE_OVERRIDE"}
