"""An analytics read plans each statement for its own values and sorts in memory, for its transaction only: the
writes that share the pool keep PostgreSQL's defaults (modules/usage/analytics/reading.py)."""

from __future__ import annotations

from sqlalchemy import text

from modules.core.database import Database
from modules.usage.analytics.reading import analytic_session

SETTINGS = text("SELECT current_setting('plan_cache_mode'), current_setting('work_mem'), pg_backend_pid()")


async def test_the_settings_hold_in_the_read_and_not_after_it(database: Database) -> None:
    async with database.session_factory() as session:
        default = (await session.execute(SETTINGS)).one()
    async with analytic_session(database) as session:
        inside = (await session.execute(SETTINGS)).one()
    async with database.session_factory() as session:
        after = (await session.execute(SETTINGS)).one()
    assert default[:2] == ("auto", "4MB")
    assert inside[:2] == ("force_custom_plan", "16MB")
    assert after[:2] == default[:2]
    assert len({default[2], inside[2], after[2]}) == 1  # one pooled connection throughout
