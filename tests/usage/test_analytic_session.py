"""An analytics read plans each statement for its own values and sorts in memory, for its transaction only: the
writes that share the pool keep PostgreSQL's defaults (modules/usage/analytics/reading.py)."""

from __future__ import annotations

from sqlalchemy import text

from modules.core.database import Database
from modules.usage.analytics.reading import analytic_session

SETTINGS = text(
    "SELECT current_setting('plan_cache_mode'), current_setting('work_mem'), current_setting('parallel_setup_cost'), "
    "pg_backend_pid()"
)


async def test_the_settings_hold_in_the_read_and_not_after_it(database: Database) -> None:
    async with database.session_factory() as session:
        default = (await session.execute(SETTINGS)).one()
    async with analytic_session(database) as session:
        inside = (await session.execute(SETTINGS)).one()
    async with database.session_factory() as session:
        after = (await session.execute(SETTINGS)).one()
    assert default[:3] == ("auto", "4MB", "1000")
    assert inside[:3] == ("force_custom_plan", "16MB", "40000")
    assert after[:3] == default[:3]
    assert len({default[3], inside[3], after[3]}) == 1  # one pooled connection throughout
