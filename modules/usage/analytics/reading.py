"""The unit of work of an analytics read: a session whose transaction plans each statement for its own values and
sorts in memory.

- `plan_cache_mode = force_custom_plan`: asyncpg prepares each statement once per connection, and after five
  executions PostgreSQL may switch it to a generic plan, made without the values of its parameters. For the
  histogram percentiles that plan sorts all of a month's histogram rows on disk: at 10M events the per-model
  percentiles went from 50-95 ms to 135-230 ms from the sixth request on. Planning anew costs ~1 ms; these
  statements take tens.
- `work_mem = 16MB`: at PostgreSQL's 4 MB default the same query spills its sort of 130,000 histogram rows to
  disk (180 ms, against 78 ms in memory). At most ~20 connections a process, each with a few such nodes.

- `parallel_setup_cost = 40000` (PostgreSQL's default: 1000): a Gather costs ~10 ms here (its workers' start and
  the merge of their sorted halves), ~30,000 of the planner's units on this machine (the serial per-model statement
  below: 122,000 units, 38 ms). At the default the planner splits rollup reads of tens of thousands of rows across
  two workers that lose: at 10M events the per-model percentiles took 48-51 ms of SQL with two workers (Gather
  Merge of 14,700 partial groups), 38-40 serial; the overview's p95 11.5 ms with them, 5.8 without. Workers stay
  for what pays for them: scans of the events of long windows (hundreds of thousands of rows, hundreds of ms).

All are set for the transaction only (`for_this_transaction`, modules/core/database.py), so they hold through
PgBouncer in transaction mode and on a hot standby too, and never reach the writes that share the pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.database import Database, for_this_transaction

WORK_MEM = "16MB"
PARALLEL_SETUP_COST = "40000"


@asynccontextmanager
async def analytic_session(database: Database) -> AsyncIterator[AsyncSession]:
    async with database.session_factory() as session:
        await for_this_transaction(
            session, plan_cache_mode="force_custom_plan", work_mem=WORK_MEM, parallel_setup_cost=PARALLEL_SETUP_COST
        )
        yield session
