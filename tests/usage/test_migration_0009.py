"""Migration 0009 on a database holding events from before it: the latency histograms and every rollup's retries
are filled from those events, equal to what the rollup writer's rebuild (the insert path's statements) gives."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from modules.usage.rollups.writer import rebuild
from tests.usage.test_migration_0008 import fresh, upgrade  # noqa: F401  (fresh: a fixture)

INSERT_EVENT = text(
    "INSERT INTO usage_events (workspace_id, request_id, occurred_at, received_at, provider, model, task_type, "
    "prompt_tokens, completion_tokens, total_tokens, cost_usd, cost_source, status, duration_ms, "
    "time_to_first_token_ms, retry_count) VALUES (:ws, :rid, :at, :at, :provider, :model, :task, 10, 1, 11, 0, "
    "'CALLER', 'SUCCESS', :duration, :ttft, :retries)"
)
EVENTS = [  # request id, day, provider, model, task, duration, ttft, retries
    ("a", "2026-03-01", "openai", "gpt-4o", "chat", 1200, 300, 2),
    ("b", "2026-03-01", "openai", "gpt-4o", None, 1210, None, 0),
    ("c", "2026-03-01", "anthropic", "claude", "chat", 0, 0, 1),
    ("d", "2026-03-02", "openai", "gpt-4o", "chat", None, None, 3),
]
HISTOGRAMS = text(
    "SELECT day, provider, model, log_bucket, durations, ttfts FROM usage_latency_daily "
    "ORDER BY day, provider NULLS FIRST, model, log_bucket"
)
RETRIES = {
    table: text(f"SELECT {key}, retries FROM {table} ORDER BY {key}")
    for table, key in [
        ("usage_daily", "day, provider, model, task_type"),
        ("usage_hourly", "hour, provider, model"),
        ("usage_user_daily", "day, user_id"),
    ]
}


async def test_histograms_and_retries_are_filled_from_the_events_stored_before(fresh):  # noqa: F811
    async with fresh.begin() as connection:
        await connection.run_sync(upgrade, "0005")  # before the rollups: 0006 and 0007 fill them from the events
        ws = (
            await connection.execute(text("INSERT INTO workspaces (slug, name) VALUES ('w', 'W') RETURNING id"))
        ).scalar()
        for rid, day, provider, model, task, duration, ttft, retries in EVENTS:
            await connection.execute(
                INSERT_EVENT,
                {"ws": ws, "rid": rid, "at": datetime.fromisoformat(f"{day}T10:00:00+00:00"), "provider": provider, "model": model,
                 "task": task, "duration": duration, "ttft": ttft, "retries": retries},
            )  # fmt: skip
        await connection.execute(text("UPDATE usage_events SET user_id = 'u1' WHERE request_id IN ('a', 'c')"))
        await connection.run_sync(upgrade, "0006")
        await connection.run_sync(upgrade, "head")
        migrated = [tuple(r) for r in await connection.execute(HISTOGRAMS)]
        retries = {table: [tuple(r) for r in await connection.execute(q)] for table, q in RETRIES.items()}
    day1 = date(2026, 3, 1)
    # 1200 and 1210 ms share bucket 181; 0 ms is bucket 0; TTFT 300 is bucket 146
    assert [m for m in migrated if m[0] == day1] == [
        (day1, None, None, 0, 1, 1),
        (day1, None, None, 146, 0, 1),
        (day1, None, None, 181, 2, 0),
        (day1, "anthropic", "claude", 0, 1, 1),
        (day1, "openai", "gpt-4o", 146, 0, 1),
        (day1, "openai", "gpt-4o", 181, 2, 0),
    ]
    assert sum(r[-1] for r in retries["usage_daily"]) == sum(r[-1] for r in retries["usage_hourly"]) == 6
    assert [r[-1] for r in retries["usage_user_daily"]] == [3]  # a and c name u1
    async with fresh.connect() as connection, AsyncSession(bind=connection) as session:
        await rebuild(session)
        assert [tuple(r) for r in await session.execute(HISTOGRAMS)] == migrated
        for table, query in RETRIES.items():
            assert [tuple(r) for r in await session.execute(query)] == retries[table], table
        await session.rollback()
