"""Each usage index is the one its query uses: EXPLAIN of the statements the code runs.

The events are inserted in the test's own (rolled-back) transaction, which ANALYZE does not count, so the
planner sees an almost empty table and its choice would hang on what other tests left behind. Plans are
therefore asked with sequential and bitmap scans priced out: what is checked is that an index with the
right columns and order serves each query (no Sort where the order matters). At scale the benchmarks
(issue 5) measure the same plans with real statistics.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Select, text
from sqlalchemy.dialects import postgresql

from modules.usage.aggregation import UsageAggregates
from modules.usage.records import UsageFilterSpec
from modules.usage.repository import UsageRepository
from modules.usage.sessions import SessionRepository

START, END = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)


TRACK_BATCH = "mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs) { insertedCount } }"


@pytest.fixture
async def events(gql, workspace, database) -> None:
    """600 events of 40 users over two months, and fresh statistics for the planner."""
    inputs = [
        {
            "workspaceId": "acme",
            "provider": "openai",
            "model": "gpt-4o",
            "promptTokens": 10,
            "completionTokens": 1,
            "userId": f"user-{i % 40}",
            "sessionId": f"s-{i // 5}",
            "occurredAt": f"2025-{5 + i % 2:02d}-{1 + i % 28:02d}T12:00:00Z",
        }
        for i in range(600)
    ]
    await gql.data(TRACK_BATCH, inputs=inputs)
    async with database.session_factory() as session:
        await session.execute(text("ANALYZE usage_events"))


async def plan(database, statement: Select[Any]) -> str:
    sql = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    async with database.session_factory() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        await session.execute(text("SET LOCAL enable_bitmapscan = off"))
        rows = (await session.execute(text(f"EXPLAIN {sql}"))).scalars().all()
    return "\n".join(rows)


@pytest.mark.parametrize(
    ("spec", "index"),
    [
        (dict(start=START, end=END), "ix_usage_events_workspace_time"),
        (dict(user_id="alice", start=START, end=END), "ix_usage_events_workspace_user_time"),
    ],
)
async def test_analytics_read_the_workspace_time_range_through_an_index(database, workspace, events, spec, index):
    statement = UsageAggregates().breakdown_statement(UsageFilterSpec(workspace_id=UUID(workspace["id"]), **spec))
    assert index in await plan(database, statement)


async def test_event_pages_walk_the_time_index_backwards(database, workspace, events):
    spec = UsageFilterSpec(workspace_id=UUID(workspace["id"]))
    explained = await plan(database, UsageRepository().page_statement(spec, before=(END, 10), limit=51))
    assert "Index Scan Backward using ix_usage_events_workspace_time" in explained
    assert "Sort" not in explained


async def test_session_events_are_read_through_the_session_index(database, workspace, events):
    statement = SessionRepository().events_statement(UUID(workspace["id"]), ["s-1", "s-7"])
    assert "ix_usage_events_workspace_session_time" in await plan(database, statement)
