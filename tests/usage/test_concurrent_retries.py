"""The same batch sent five times at once, through the pool of real connections: one row per event."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from dependency_injector import providers
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from modules.core.database import Database
from modules.core.principal import Scope
from service.app import create_app
from service.container import ApplicationContainer
from tests.conftest import GraphQLClient, create_key

TRACK_BATCH = "mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs) { insertedCount } }"


async def test_concurrent_retries_of_one_batch_store_each_event_once(engine):
    container = ApplicationContainer()
    container.database.override(providers.Object(Database(engine=engine, session_factory=async_sessionmaker(engine))))
    slug = f"race-{uuid.uuid4().hex[:8]}"
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://llm-usage.test") as http:
        admin = GraphQLClient(http, await create_key(container))
        await admin.data(f'mutation {{ createWorkspace(input: {{name: "Race", slug: "{slug}"}}) {{ id }} }}')
        # A key of that workspace only: deleting the workspace below deletes it too.
        gql = GraphQLClient(http, await create_key(container, workspace=slug, scopes=(Scope.INGEST, Scope.READ)))
        try:
            inputs = [
                {
                    "workspaceId": slug,
                    "requestId": f"r{i}",
                    "provider": "openai",
                    "model": "gpt-4o",
                    "promptTokens": 100,
                    "completionTokens": 10,
                    "userId": f"u{i % 7}",
                }
                for i in range(200)
            ]
            results = await asyncio.gather(*(gql.data(TRACK_BATCH, inputs=inputs) for _ in range(5)))
            assert sum(r["trackUsageBatch"]["insertedCount"] for r in results) == 200
            totals = await gql.data(
                f'{{ usageAnalytics(filter: {{workspaceId: "{slug}"}}) {{ totals {{ calls promptTokens costUsd }} }} }}'
            )
            assert totals["usageAnalytics"]["totals"] == {"calls": 200, "promptTokens": 20_000, "costUsd": "0.07"}
        finally:
            async with engine.begin() as connection:
                await connection.execute(text("DELETE FROM workspaces WHERE slug = :slug"), {"slug": slug})
                await connection.execute(text("DELETE FROM api_keys WHERE workspace_id IS NULL AND name = 'tests'"))
