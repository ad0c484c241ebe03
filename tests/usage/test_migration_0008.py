"""Migration 0008 on a database holding events from before it: every row keeps its counts and costs, reports no
other kind (usage_kinds '{}', audio 0, in the rollups too), and gets the catalogue model of its reported name."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from service.migrations import alembic_config

INSERT_EVENT = text(
    "INSERT INTO usage_events (workspace_id, request_id, occurred_at, received_at, provider, model, prompt_tokens, "
    "completion_tokens, total_tokens, input_cost_usd, output_cost_usd, cost_usd, cost_source, status) "
    "VALUES (:ws, :rid, now(), now(), :provider, :model, 1000, 100, 1100, :input, :output, :total, :source, 'SUCCESS')"
)


@pytest.fixture
async def fresh(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """A database of its own on the tests' server, with no migration applied."""
    name = f"llm_usage_m8_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(engine.url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    migrated = create_async_engine(engine.url.set(database=name))
    yield migrated
    await migrated.dispose()
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


def upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_events_stored_before_keep_their_costs_and_gain_their_catalogue_model(fresh):
    async with fresh.begin() as connection:
        await connection.run_sync(upgrade, "0007")
        ws = (
            await connection.execute(text("INSERT INTO workspaces (slug, name) VALUES ('w', 'W') RETURNING id"))
        ).scalar()
        for rid, provider, model, costs, source in [
            ("dated", "openai", "gpt-4o-2024-08-06", ("0.0025", "0.001", "0.0035"), "CATALOG"),
            ("plain", "openai", "gpt-4o", ("0.0025", "0.001", "0.0035"), "CATALOG"),
            ("caller", "anthropic", "claude-3-5-haiku-20241022", (None, None, "7"), "CALLER"),
            ("unknown", "mistral", "in-house-7b", (None, None, None), "UNKNOWN_MODEL"),
        ]:
            values = dict(zip(("input", "output", "total"), costs, strict=True))
            await connection.execute(
                INSERT_EVENT, {"ws": ws, "rid": rid, "provider": provider, "model": model, **values, "source": source}
            )
        await connection.execute(
            text(
                "INSERT INTO usage_daily (workspace_id, day, provider, model, status, calls, success_count, "
                "error_count, prompt_tokens, completion_tokens, cached_prompt_tokens, cache_write_tokens, "
                "reasoning_tokens, total_tokens, cost_usd, unpriced_calls, duration_sum, duration_count, ttft_sum, "
                "ttft_count, timed_completion_tokens, timed_duration_sum) VALUES (:ws, current_date, 'openai', "
                "'gpt-4o', 'SUCCESS', 1, 1, 0, 1000, 100, 0, 0, 0, 1100, 0.0035, 0, 0, 0, 0, 0, 0, 0)"
            ),
            {"ws": ws},
        )
        await connection.run_sync(upgrade, "head")
        rows = await connection.execute(
            text(
                "SELECT request_id, catalogue_model, usage_kinds, audio_tokens, prompt_tokens, cost_usd, cost_source "
                "FROM usage_events ORDER BY request_id"
            )
        )
        assert [tuple(row) for row in rows] == [
            ("caller", "claude-3-5-haiku-latest", {}, 0, 1000, Decimal("7.0000000000"), "CALLER"),
            ("dated", "gpt-4o", {}, 0, 1000, Decimal("0.0035000000"), "CATALOG"),
            ("plain", "gpt-4o", {}, 0, 1000, Decimal("0.0035000000"), "CATALOG"),
            ("unknown", None, {}, 0, 1000, None, "UNKNOWN_MODEL"),
        ]
        rollup = await connection.execute(text("SELECT calls, audio_tokens, cost_usd FROM usage_daily"))
        assert [tuple(row) for row in rollup] == [(1, 0, Decimal("0.0035000000"))]
