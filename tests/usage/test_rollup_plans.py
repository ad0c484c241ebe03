"""The rollups of a batch read its events through the primary key however small usage_events was when the
connection first ran the statement. PostgreSQL plans a prepared statement for its parameters five times, then
may keep a generic plan for good: made while the table was nearly empty, that plan scanned the whole table for
every batch, ever slower as it grew (130 ms per rollup at 27,000 events in bench/ingest.py, until an ANALYZE).
Since usage_events is partitioned (0013) even a generic plan reads each month through its primary key (pruned when
the executor starts), so forcing custom plans is no longer what this holds: it holds the index read itself."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from modules.usage.rollups.writer import RollupWriter

EVENTS = (
    "INSERT INTO usage_events (workspace_id, request_id, occurred_at, received_at, provider, model, prompt_tokens, "
    "completion_tokens, total_tokens, cost_usd, cost_source, duration_ms, status) "
    "SELECT :workspace, gen_random_uuid()::text, now() - make_interval(secs => n), now(), 'openai', 'gpt-4o', 10, 5, "
    "15, 0.001, 'CALLER', 100 + n % 900, 'SUCCESS' FROM generate_series(1, :count) AS n RETURNING id"
)
SEQUENTIAL_SCANS = (  # over usage_events' partitions (the partitioned table itself is never scanned)
    "SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_xact_user_tables "
    "WHERE relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'usage_events'::regclass)"
)


async def test_a_batch_is_rolled_up_through_the_primary_key_after_the_table_grew(engine: AsyncEngine) -> None:
    fresh = create_async_engine(engine.url.render_as_string(hide_password=False))  # a connection with no plans yet
    try:
        async with fresh.connect() as connection:
            transaction = await connection.begin()
            session = AsyncSession(bind=connection)
            slug = f"plans-{uuid.uuid4().hex[:8]}"
            workspace = (
                await session.execute(
                    text("INSERT INTO workspaces (slug, name) VALUES (:slug, :slug) RETURNING id"), {"slug": slug}
                )
            ).scalar_one()
            first = list((await session.execute(text(EVENTS), {"workspace": workspace, "count": 1})).scalars())
            writer = RollupWriter()
            for sign in (1, -1, 1, -1, 1, -1, 1, -1):  # more than five runs while the table holds one event
                await writer.add(session, first, sign=sign)
            await session.execute(text(EVENTS), {"workspace": workspace, "count": 5000})
            batch = list((await session.execute(text(EVENTS), {"workspace": workspace, "count": 20})).scalars())
            span = "SELECT min(occurred_at), max(occurred_at) FROM usage_events WHERE id = ANY(:ids)"
            earliest, latest = (await session.execute(text(span), {"ids": batch})).one()
            scans_before = (await session.execute(text(SEQUENTIAL_SCANS))).scalar_one()
            await writer.add(session, batch, within=(earliest, latest))  # as on_stored bounds it
            scans_after = (await session.execute(text(SEQUENTIAL_SCANS))).scalar_one()
            calls = "SELECT sum(calls) FROM usage_daily WHERE workspace_id = :workspace"
            assert (await session.execute(text(calls), {"workspace": workspace})).scalar_one() == 20
            assert scans_after - scans_before == 0
            await transaction.rollback()
    finally:
        await fresh.dispose()
