"""The unit of work of an analytics read: a session whose transaction plans each statement for its own values and
sorts in memory.

- `plan_cache_mode = force_custom_plan`: asyncpg prepares each statement once per connection, and after five
  executions PostgreSQL may switch it to a generic plan, made without the values of its parameters. For the
  histogram percentiles that plan sorts all of a month's histogram rows on disk: at 10M events the per-model
  percentiles went from 50-95 ms to 135-230 ms from the sixth request on. Planning anew costs ~1 ms; these
  statements take tens.
- `work_mem = 16MB`: at PostgreSQL's 4 MB default the same query spills its sort of 130,000 histogram rows to
  disk (180 ms, against 78 ms in memory). At most ~20 connections a process, each with a few such nodes.

- `parallel_setup_cost = 10000` (PostgreSQL's default: 1000): a window read as a union of weekly and daily rollup
  rows (split.py) is a Parallel Append the planner finds worth two workers even for 1,600 histogram rows; their
  start cost more than the scan (at 10M events the overview's p95 took 11.5 ms of SQL with them, 5.8 without).
  Ten times the default keeps workers for what they pay off on: scans of the events of long windows.

All are set for the transaction only (`for_this_transaction`, modules/core/database.py), so they hold through
PgBouncer in transaction mode and on a hot standby too, and never reach the writes that share the pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.database import Database, for_this_transaction

WORK_MEM = "16MB"
PARALLEL_SETUP_COST = "10000"


@asynccontextmanager
async def analytic_session(database: Database) -> AsyncIterator[AsyncSession]:
    async with database.session_factory() as session:
        await for_this_transaction(
            session, plan_cache_mode="force_custom_plan", work_mem=WORK_MEM, parallel_setup_cost=PARALLEL_SETUP_COST
        )
        yield session
