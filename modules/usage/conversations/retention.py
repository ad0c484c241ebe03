"""Content retention: each workspace's content older than its own retention (`retentionDays`, shorter than the
events') is deleted hourly; the events and their numbers stay. Deleting an event deletes its content at once (the
foreign key), so content never outlives its event. Chunks of one process at a time (a transaction-scoped
advisory lock: nothing depends on one connection staying the same, so it holds behind PgBouncer too)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from modules.core.database import Database
from modules.usage.conversations.repository import ConversationRepository

log = logging.getLogger(__name__)

PRUNE_LOCK = 0x6C6C6D75_0003  # pg advisory lock key: "llmu" + 3
CHUNK = 1_000
INTERVAL_S = 3600.0


class ContentRetention:
    def __init__(self, *, database: Database, repository: ConversationRepository) -> None:
        self.database = database
        self.repository = repository

    async def prune(self, now: datetime | None = None) -> int:
        """Deletes the content past each workspace's retention, in chunks that are transactions of their own; how
        many calls' content (it stops at a chunk another process is deleting: that process goes on)."""
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        async with self.database.session_factory() as session:
            settings = await self.repository.kept_settings(session)
        deleted = 0
        for setting in settings:
            horizon = moment - timedelta(days=setting.retention_days)
            while True:
                async with self.database.session_factory.begin() as session:
                    locked = await session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": PRUNE_LOCK})
                    if not locked.scalar():
                        return deleted
                    count = await self.repository.delete_expired(session, setting.workspace_id, horizon, CHUNK)
                deleted += count
                if count < CHUNK:
                    break
        return deleted

    async def run(self) -> None:
        """Prunes hourly until cancelled; a failing pass is logged and retried at the next."""
        while True:
            try:
                deleted = await self.prune()
                if deleted:
                    log.info("content retention: deleted the content of %d calls", deleted)
            except Exception:
                log.exception("content retention pass failed; retrying in an hour")
            await asyncio.sleep(INTERVAL_S)
