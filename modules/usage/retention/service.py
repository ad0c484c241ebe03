"""Retention (LLM_USAGE_RETENTION_DAYS): events older than the horizon are deleted; the rollups keep their sums.

First their idempotency keys (and through them their content), in chunks; then every month's partition that
ends before the horizon is dropped whole; then the older events of the month the horizon falls in (and of the
default partition) are deleted in chunks. Each chunk is its own short transaction, so ingestion and reads never
wait long on it. One process at a time prunes (a PostgreSQL advisory lock); every process may try, hourly.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

from sqlalchemy import CursorResult, TextClause, text

from modules.core.database import Database
from modules.usage.retention.partitions import EventPartitions

log = logging.getLogger(__name__)

PRUNE_LOCK = 0x6C6C6D75_0002  # pg advisory lock key: "llmu" + 2
CHUNK = 10_000
INTERVAL_S = 3600.0
# Workspace by workspace, so each chunk is a range of the (workspace_id, occurred_at) index.
DELETE_CHUNK_SQL = text(
    "DELETE FROM usage_events WHERE id IN (SELECT id FROM usage_events "
    "WHERE workspace_id = :workspace_id AND occurred_at < :horizon LIMIT :chunk)"
)
DELETE_KEYS_SQL = text(
    "DELETE FROM usage_request_keys WHERE (workspace_id, request_id) IN (SELECT workspace_id, request_id "
    "FROM usage_request_keys WHERE occurred_at < :horizon LIMIT :chunk)"
)


class UsageRetention:
    def __init__(
        self, *, database: Database, retention_days: int | None, partitions: EventPartitions | None = None
    ) -> None:
        if retention_days is not None and retention_days < 1:
            raise ValueError(f"retention must be at least 1 day (got {retention_days})")
        self.database = database
        self.partitions = partitions or EventPartitions(database)
        self.retention = timedelta(days=retention_days) if retention_days else None

    def horizon(self, now: datetime) -> datetime | None:
        """Events before this moment are deleted (None: kept forever)."""
        return None if self.retention is None else now.astimezone(UTC) - self.retention

    async def prune(self, now: datetime | None = None) -> int:
        """Deletes every event older than the horizon; the number deleted (0 if another process is pruning)."""
        horizon = self.horizon(now or datetime.now(UTC))
        if horizon is None:
            return 0
        deleted = 0
        async with self.database.engine.connect() as lock_holder:
            locked = (await lock_holder.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PRUNE_LOCK})).scalar()
            if not locked:
                return 0
            try:
                await lock_holder.commit()  # the lock is the session's: no transaction stays open meanwhile
                await self._delete_in_chunks(DELETE_KEYS_SQL, {"horizon": horizon, "chunk": CHUNK})
                deleted += await self.partitions.drop_before(horizon)
                async with self.database.session_factory() as session:
                    listed = await session.execute(text("SELECT id FROM workspaces ORDER BY id"))
                    workspace_ids = list(listed.scalars())
                for workspace_id in workspace_ids:
                    deleted += await self._prune_workspace(workspace_id, horizon)
                return deleted
            finally:
                await lock_holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PRUNE_LOCK})
                await lock_holder.commit()

    async def _prune_workspace(self, workspace_id: UUID, horizon: datetime) -> int:
        parameters = {"workspace_id": workspace_id, "horizon": horizon, "chunk": CHUNK}
        return await self._delete_in_chunks(DELETE_CHUNK_SQL, parameters)

    async def _delete_in_chunks(self, statement: TextClause, parameters: dict[str, Any]) -> int:
        """Runs a DELETE of at most CHUNK rows, each in its own transaction, until one deletes fewer; the total."""
        deleted = 0
        while True:
            async with self.database.session_factory.begin() as session:
                # execute() is typed as returning a Result; a DELETE's is a CursorResult, which has the rowcount.
                result = cast(CursorResult[Any], await session.execute(statement, parameters))
                count = result.rowcount
            deleted += count
            if count < CHUNK:
                return deleted

    async def run(self) -> None:
        """Prunes hourly until cancelled; a failing pass is logged and retried at the next."""
        while True:
            try:
                deleted = await self.prune()
                if deleted and self.retention is not None:  # deleted implies a retention
                    log.info("retention: deleted %d events older than %s days", deleted, self.retention.days)
            except Exception:
                log.exception("retention pass failed; retrying in an hour")
            await asyncio.sleep(INTERVAL_S)
