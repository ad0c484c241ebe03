"""Migration 0012 on a database holding events and daily rollups from before it: the weekly rollups are filled
from the daily rows, equal to what the rollup writer's rebuild (the insert path's statements) gives from the
events."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from modules.usage.rollups.writer import rebuild
from tests.usage.test_migration_0008 import fresh, upgrade  # noqa: F401  (fresh: a fixture)
from tests.usage.test_migration_0009 import INSERT_EVENT

EVENTS = [  # request id, moment (UTC), user, duration, ttft: a Sunday, its Monday, the next Monday and Sunday
    ("a", "2026-03-01T23:59:59", "u1", 1200, 300),
    ("b", "2026-03-02T00:00:00", "u1", 1210, None),
    ("c", "2026-03-02T10:00:00", "u2", 0, 0),
    ("d", "2026-03-09T00:00:00", "u1", 40, 20),
    ("e", "2026-03-15T23:00:00", None, 41, None),
]
USERS = text("SELECT week, user_id, calls, duration_sum, ttft_count FROM usage_user_weekly ORDER BY 1, 2")
LATENCY = text(
    "SELECT week, provider, model, log_bucket, durations, ttfts FROM usage_latency_weekly "
    "ORDER BY week, provider NULLS FIRST, model, log_bucket"
)


async def test_the_weekly_rollups_are_filled_from_the_daily_rows_stored_before(fresh):  # noqa: F811
    async with fresh.begin() as connection:
        await connection.run_sync(upgrade, "0005")  # before the rollups: 0006, 0007 and 0009 fill them from events
        ws = (
            await connection.execute(text("INSERT INTO workspaces (slug, name) VALUES ('w', 'W') RETURNING id"))
        ).scalar()
        for rid, moment, user, duration, ttft in EVENTS:
            await connection.execute(
                INSERT_EVENT,
                {"ws": ws, "rid": rid, "at": datetime.fromisoformat(f"{moment}+00:00"), "provider": "openai",
                 "model": "gpt-4o", "task": None, "duration": duration, "ttft": ttft, "retries": 0},
            )  # fmt: skip
            if user is not None:
                await connection.execute(
                    text("UPDATE usage_events SET user_id = :u WHERE request_id = :r"), {"u": user, "r": rid}
                )
        await connection.run_sync(upgrade, "0011")
        await connection.run_sync(upgrade, "head")
        users = [tuple(r) for r in await connection.execute(USERS)]
        latency = [tuple(r) for r in await connection.execute(LATENCY)]
    feb23, mar2, mar9 = date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9)
    assert users == [
        (feb23, "u1", 1, 1200, 1),
        (mar2, "u1", 1, 1210, 0),
        (mar2, "u2", 1, 0, 1),
        (mar9, "u1", 1, 40, 1),
    ]
    # 40 and 41 ms share bucket 95 (a Monday's and a Sunday's: one week), TTFT 20 is bucket 77; per model and
    # over every model
    assert [row for row in latency if row[0] == mar9] == [
        (mar9, None, None, 77, 0, 1),
        (mar9, None, None, 95, 2, 0),
        (mar9, "openai", "gpt-4o", 77, 0, 1),
        (mar9, "openai", "gpt-4o", 95, 2, 0),
    ]
    async with fresh.connect() as connection, AsyncSession(bind=connection) as session:
        await rebuild(session)
        assert [tuple(r) for r in await session.execute(USERS)] == users
        assert [tuple(r) for r in await session.execute(LATENCY)] == latency
        await session.rollback()
