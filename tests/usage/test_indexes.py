"""Each usage index is the one its query uses: EXPLAIN of the statements the code runs.

On committed rows with real statistics (ANALYZE does not count a test's own uncommitted rows, and the
planner's choice on an almost empty table hangs on what other tests left behind), in a workspace of their
own deleted afterwards; sequential and bitmap scans are priced out so that what is checked is that an index
with the right columns and order serves each query (no Sort where the order matters). At scale the
benchmarks (issue 5) measure the same plans.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from dependency_injector import providers
from sqlalchemy import Select, text
from sqlalchemy.dialects import postgresql

from modules.core.principal import Principal
from modules.usage.analytics.aggregates import UsageAggregates
from modules.usage.records import UsageDraft, UsageFilterSpec
from modules.usage.repository import UsageRepository
from modules.usage.sessions.repository import SessionRepository
from service.config import Settings
from service.context import provide
from tests.live_server import committed_container, live_workspace

START, END = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)


@pytest.fixture
async def events(engine) -> AsyncIterator[str]:
    """600 committed events of 40 users over two months, fresh statistics; the workspace id."""
    async with live_workspace(engine) as workspace:
        container = committed_container(engine)
        container.settings.override(providers.Object(Settings(max_event_age_days=3650)))
        usage = await provide(container.usage.service())
        inputs = [
            UsageDraft(
                workspace_id=workspace.slug,
                provider="openai",
                model="gpt-4o",
                prompt_tokens=10,
                completion_tokens=1,
                user_id=f"user-{i % 40}",
                session_id=f"s-{i // 5}",
                occurred_at=datetime(2025, 5 + i % 2, 1 + i % 28, 12, tzinfo=UTC),
            )
            for i in range(600)
        ]
        await usage.track_batch(Principal.system(), inputs)
        async with engine.connect() as connection:
            # each partition itself: the statistics of one the plan is pruned to are its own, which ANALYZE of
            # the partitioned table did not renew here (autovacuum analyzes partitions, never their parent)
            partitions = await connection.execute(
                text("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'usage_events'::regclass")
            )
            for name in partitions.scalars().all():
                await connection.execute(text(f"ANALYZE {name}"))
            await connection.commit()
        yield workspace.id


async def plan(engine, statement: Select[Any]) -> str:
    sql = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    async with engine.connect() as connection:
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        await connection.execute(text("SET LOCAL enable_bitmapscan = off"))
        rows = (await connection.execute(text(f"EXPLAIN {sql}"))).scalars().all()
        await connection.rollback()
    return "\n".join(rows)


def index_conditions(explained: str) -> str:
    """The Index Cond lines of a plan: what an index (not a filter over fetched rows) narrows down."""
    return "\n".join(line for line in explained.splitlines() if "Index Cond" in line)


@pytest.mark.parametrize(
    ("spec", "narrowed_by"),
    [
        # a week of the workspace's two months: a range of the index, where a window as wide as the partition's
        # rows (one workspace alone here) may as well read the whole primary key (id, occurred_at) with a filter
        (dict(start=START, end=START + timedelta(days=7)), ["workspace_id =", "occurred_at >=", "occurred_at <"]),
        (dict(user_id="alice", start=START, end=END), ["workspace_id =", "user_id =", "occurred_at >="]),
    ],
)
async def test_analytics_read_the_workspace_time_range_through_an_index(engine, events, spec, narrowed_by):
    """PostgreSQL 18 may also reach the range through a skip scan of the session index; either way the
    workspace, user and time range must be index conditions."""
    statement = UsageAggregates().breakdown_statement(UsageFilterSpec(workspace_id=UUID(events), **spec))
    explained = await plan(engine, statement)
    conditions = index_conditions(explained)
    assert all(part in conditions for part in narrowed_by), explained


async def test_event_pages_walk_the_time_index_backwards(engine, events):
    """In every month's partition the page reads (the months after its position pruned away), merged in order."""
    spec = UsageFilterSpec(workspace_id=UUID(events))
    explained = await plan(engine, UsageRepository().page_statement(spec, before=(END, 10), limit=51))
    scans = [line.split("->")[-1].strip() for line in explained.splitlines() if " on usage_events" in line]
    assert scans, explained
    for scan in scans:  # e.g. "Index Scan Backward using usage_events_default_workspace_id_occurred_at_id_idx on …"
        partition = scan.split(" on ")[1].split()[0]
        assert scan.startswith(f"Index Scan Backward using {partition}_workspace_id_occurred_at_id_idx "), explained
        assert partition == "usage_events_default" or partition <= f"usage_events_y{END:%Ym%m}", explained
    assert not any(line.strip().startswith(("Sort ", "->  Sort ")) for line in explained.splitlines()), explained


async def test_session_events_are_read_through_the_session_index(engine, events):
    statement = SessionRepository().events_statement(UUID(events), ["s-1", "s-7"])
    explained = await plan(engine, statement)
    assert "session_id = ANY" in index_conditions(explained), explained
