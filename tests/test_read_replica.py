"""DATABASE_READ_URL: analytics read from the replica it names, ingestion still writes to the primary."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator

import pytest
from dependency_injector import providers
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from service.context import provide
from service.migrations import upgrade_to_head
from tests.conftest import TEST_SETTINGS


@pytest.fixture
async def replica_url(engine: AsyncEngine) -> AsyncIterator[str]:
    """Another database on the same server, standing in for a streaming replica."""
    name = f"llm_usage_replica_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(engine.url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = engine.url.set(database=name).render_as_string(hide_password=False)
    replica = create_async_engine(url)
    await upgrade_to_head(replica)
    await replica.dispose()
    yield url
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def test_analytics_read_the_replica_and_ingestion_writes_the_primary(gql, container, workspace, replica_url):
    container.settings.override(providers.Object(dataclasses.replace(TEST_SETTINGS, database_read_url=replica_url)))
    await provide(container.read_database.shutdown())  # opened on the primary by the fixtures' requests
    replica = create_async_engine(replica_url)
    async with replica.begin() as connection:  # what the replica holds: the workspace and one event
        await connection.execute(
            text("INSERT INTO workspaces (id, slug, name) VALUES (:id, 'acme', 'Acme')"), {"id": workspace["id"]}
        )
        await connection.execute(
            text(
                "INSERT INTO usage_events (workspace_id, request_id, occurred_at, received_at, provider, model, "
                "prompt_tokens, completion_tokens, total_tokens, cost_usd, cost_source, status, tags) VALUES "
                "(:id, 'on-replica', now(), now(), 'openai', 'gpt-4o', 7, 3, 10, 0.5, 'CALLER', 'SUCCESS', '{}')"
            ),
            {"id": workspace["id"]},
        )
        await connection.execute(  # and its daily rollup row, as replication would have brought it
            text(
                "INSERT INTO usage_daily (workspace_id, day, provider, model, status, calls, success_count, "
                "error_count, prompt_tokens, completion_tokens, cached_prompt_tokens, cache_write_tokens, "
                "reasoning_tokens, total_tokens, cost_usd, unpriced_calls, duration_sum, duration_count, ttft_sum, "
                "ttft_count, timed_completion_tokens, timed_duration_sum) VALUES (:id, current_date, 'openai', "
                "'gpt-4o', 'SUCCESS', 1, 1, 0, 7, 3, 0, 0, 0, 10, 0.5, 0, 0, 0, 0, 0, 0, 0)"
            ),
            {"id": workspace["id"]},
        )
    await gql.data(
        'mutation { trackUsage(input: {workspaceId: "acme", provider: "openai", model: "gpt-4o", '
        'promptTokens: 100, completionTokens: 1, requestId: "on-primary"}) { duplicate } }'
    )
    totals = await gql.data(
        '{ usageAnalytics(filter: {workspaceId: "acme"}) { totals { calls totalTokens costUsd } } }'
    )
    assert totals["usageAnalytics"]["totals"] == {"calls": 1, "totalTokens": 10, "costUsd": "0.5"}
    async with replica.connect() as connection:
        stored = (await connection.execute(text("SELECT request_id FROM usage_events"))).scalars().all()
    assert stored == ["on-replica"]
    await replica.dispose()
    await provide(container.read_database.shutdown())
