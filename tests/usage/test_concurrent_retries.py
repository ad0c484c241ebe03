"""The same batch sent five times at once, through the pool of real connections: one row per event."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime

import httpx
from dependency_injector import providers
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from modules.core.database import Database
from modules.core.principal import Scope
from modules.core.transactions import with_retries
from modules.usage.records import CostSource, NewUsageEvent, UsageStatus
from modules.usage.repository import UsageRepository
from service.app import create_app
from service.container import ApplicationContainer
from tests.conftest import GraphQLClient, create_key
from tests.documents import TRACK_BATCH


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


def new_event(workspace_id: uuid.UUID, request_id: str) -> NewUsageEvent:
    now = datetime.now(UTC)
    return NewUsageEvent(
        workspace_id=workspace_id,
        request_id=request_id,
        occurred_at=now,
        received_at=now,
        provider="openai",
        model="gpt-4o",
        provider_instance_id=None,
        task_type=None,
        user_id=None,
        session_id=None,
        prompt_tokens=1,
        completion_tokens=1,
        total_tokens=2,
        cached_prompt_tokens=0,
        cache_write_tokens=0,
        reasoning_tokens=0,
        input_cost_usd=None,
        output_cost_usd=None,
        cost_usd=None,
        cost_source=CostSource.UNKNOWN_MODEL,
        duration_ms=None,
        time_to_first_token_ms=None,
        status=UsageStatus.SUCCESS,
        error_type=None,
        error_message=None,
        retry_count=0,
        streamed=None,
    )


async def test_batches_sharing_request_ids_in_other_orders_insert_without_deadlock(engine):
    """Transactions at once, each inserting the same 1,000 new request ids in its own order: unsorted, PostgreSQL
    aborts some as deadlocks (each waits on a key another inserted first); in key order they queue."""
    writers, size = 12, 1000
    wide = create_async_engine(engine.url, pool_size=writers, max_overflow=0)
    slug = f"order-{uuid.uuid4().hex[:8]}"
    async with wide.begin() as connection:
        workspace_id = (
            await connection.execute(
                text("INSERT INTO workspaces (id, name, slug) VALUES (gen_random_uuid(), :s, :s) RETURNING id"),
                {"s": slug},
            )
        ).scalar_one()
    try:
        events = [new_event(workspace_id, f"r{i:04d}") for i in range(size)]
        sessions = async_sessionmaker(wide)
        repository = UsageRepository()

        connected = asyncio.Barrier(writers)

        async def insert(seed: int) -> int:
            async with sessions.begin() as session:
                await session.execute(text("SELECT 1"))  # every transaction open before any inserts
                await connected.wait()
                return len(await repository.insert_many(session, random.Random(seed).sample(events, size)))

        results = await asyncio.gather(*(insert(seed) for seed in range(writers)), return_exceptions=True)
        assert [type(r).__name__ for r in results if isinstance(r, BaseException)] == []
        assert sum(results) == size  # type: ignore[arg-type]
    finally:
        async with wide.begin() as connection:
            await connection.execute(text("DELETE FROM workspaces WHERE slug = :slug"), {"slug": slug})
        await wide.dispose()


async def test_a_transaction_that_loses_a_real_deadlock_is_done_again(engine):
    """Two units of work lock two rows in opposite orders: PostgreSQL aborts one (40P01); with_retries does it
    again once the other committed, and both take effect."""
    slug = f"dead-{uuid.uuid4().hex[:8]}"
    async with engine.begin() as connection:
        ids = [
            (
                await connection.execute(
                    text("INSERT INTO workspaces (id, name, slug) VALUES (gen_random_uuid(), :s, :s) RETURNING id"),
                    {"s": f"{slug}-{n}"},
                )
            ).scalar_one()
            for n in range(2)
        ]
    database = Database(engine=engine, session_factory=async_sessionmaker(engine))
    both_hold_one = asyncio.Barrier(2)
    attempts = {"forward": 0, "backward": 0}

    def work(name: str, first: uuid.UUID, second: uuid.UUID):
        async def locking(session) -> None:
            attempts[name] += 1
            rename = text("UPDATE workspaces SET name = name || '+' WHERE id = :id")
            await session.execute(rename, {"id": first})
            if attempts[name] == 1:
                await both_hold_one.wait()
            await session.execute(rename, {"id": second})

        return locking

    try:
        await asyncio.gather(
            with_retries(database, work("forward", ids[0], ids[1])),
            with_retries(database, work("backward", ids[1], ids[0])),
        )
        assert sorted(attempts.values()) == [1, 2]  # one lost the deadlock and ran again
        async with engine.connect() as connection:
            names = (
                await connection.execute(text("SELECT name FROM workspaces WHERE id = ANY(:ids)"), {"ids": ids})
            ).scalars()
            assert sorted(names) == [f"{slug}-0++", f"{slug}-1++"]
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM workspaces WHERE id = ANY(:ids)"), {"ids": ids})
