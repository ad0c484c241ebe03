"""All SQL of conversation content: settings, stored content, the audit log of reads, retention."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import CursorResult, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from modules.usage.conversations.codec import decode
from modules.usage.conversations.models import ContentReadRow, ContentSettingsRow, UsageContentRow
from modules.usage.conversations.records import ContentRead, ContentSettings, Conversation

# Dropped counts of several workspaces in one statement, in key order (concurrent batches never deadlock).
COUNT_DROPPED_SQL = text(
    "INSERT INTO content_settings (workspace_id, dropped_calls) "
    "SELECT * FROM unnest(CAST(:workspace_ids AS uuid[]), CAST(:counts AS bigint[])) "
    "ON CONFLICT (workspace_id) DO UPDATE SET dropped_calls = content_settings.dropped_calls + EXCLUDED.dropped_calls"
)
DELETE_EXPIRED_SQL = text(
    "DELETE FROM usage_contents WHERE (workspace_id, event_id) IN (SELECT workspace_id, event_id FROM usage_contents "
    "WHERE workspace_id = :workspace_id AND occurred_at < :horizon LIMIT :chunk)"
)


@dataclass(frozen=True)
class NewContent:
    workspace_id: UUID
    event_id: int
    occurred_at: datetime
    body: bytes
    original_bytes: int
    truncated: bool
    omitted_messages: int
    redactions: int


class ConversationRepository:
    async def settings(self, session: AsyncSession, workspace_ids: Collection[UUID]) -> dict[UUID, ContentSettings]:
        """Every asked workspace's setting; one without a row is off."""
        found = {workspace_id: ContentSettings(workspace_id) for workspace_id in workspace_ids}
        rows = await session.scalars(
            select(ContentSettingsRow).where(ContentSettingsRow.workspace_id.in_(list(workspace_ids)))
        )
        for row in rows:
            found[row.workspace_id] = settings_of(row)
        return found

    async def save_settings(self, session: AsyncSession, settings: ContentSettings) -> ContentSettings:
        values = {
            "enabled": settings.enabled,
            "retention_days": settings.retention_days,
            "redaction": settings.redaction,
            "redaction_patterns": list(settings.redaction_patterns),
            "updated_at": text("now()"),
        }
        statement = (
            insert(ContentSettingsRow)
            .values(workspace_id=settings.workspace_id, **values)
            .on_conflict_do_update(index_elements=[ContentSettingsRow.workspace_id], set_=values)
            .returning(ContentSettingsRow)
        )
        row = (await session.scalars(statement)).one()
        return settings_of(row)

    async def count_dropped(self, session: AsyncSession, counts: Mapping[UUID, int]) -> None:
        ordered = sorted(counts.items())
        await session.execute(
            COUNT_DROPPED_SQL, {"workspace_ids": [w for w, _ in ordered], "counts": [c for _, c in ordered]}
        )

    async def insert_contents(self, session: AsyncSession, contents: Sequence[NewContent]) -> None:
        await session.execute(
            insert(UsageContentRow).on_conflict_do_nothing(),
            [content.__dict__ for content in contents],
        )

    async def conversations(
        self, session: AsyncSession, keys: Collection[tuple[UUID, int]]
    ) -> dict[tuple[UUID, int], Conversation]:
        rows = await session.scalars(
            select(UsageContentRow).where(tuple_(UsageContentRow.workspace_id, UsageContentRow.event_id).in_(keys))
        )
        return {(row.workspace_id, row.event_id): conversation_of(row) for row in rows}

    async def log_read(
        self,
        session: AsyncSession,
        *,
        workspace_id: UUID,
        key_id: UUID | None,
        reader: str,
        operation: str | None,
        event_ids: Sequence[int],
    ) -> None:
        await session.execute(
            insert(ContentReadRow).values(
                workspace_id=workspace_id,
                key_id=key_id,
                reader=reader,
                operation=operation,
                event_ids=sorted(event_ids),
            )
        )

    async def reads(
        self, session: AsyncSession, workspace_id: UUID, *, before_id: int | None, limit: int
    ) -> list[ContentRead]:
        """The workspace's audit log, newest first, from before `before_id`."""
        statement = select(ContentReadRow).where(ContentReadRow.workspace_id == workspace_id)
        if before_id is not None:
            statement = statement.where(ContentReadRow.id < before_id)
        rows = await session.scalars(statement.order_by(ContentReadRow.id.desc()).limit(limit))
        return [
            ContentRead(
                id=row.id,
                workspace_id=row.workspace_id,
                read_at=row.read_at,
                key_id=row.key_id,
                reader=row.reader,
                operation=row.operation,
                event_ids=tuple(row.event_ids),
            )
            for row in rows
        ]

    async def kept_settings(self, session: AsyncSession) -> list[ContentSettings]:
        """The workspaces that have a setting (only they can hold content)."""
        return [settings_of(row) for row in await session.scalars(select(ContentSettingsRow))]

    async def delete_expired(self, session: AsyncSession, workspace_id: UUID, horizon: datetime, chunk: int) -> int:
        parameters: dict[str, Any] = {"workspace_id": workspace_id, "horizon": horizon, "chunk": chunk}
        # execute() is typed as returning a Result; a DELETE's is a CursorResult, which has the rowcount.
        result = cast(CursorResult[Any], await session.execute(DELETE_EXPIRED_SQL, parameters))
        return result.rowcount


def settings_of(row: ContentSettingsRow) -> ContentSettings:
    return ContentSettings(
        workspace_id=row.workspace_id,
        enabled=row.enabled,
        retention_days=row.retention_days,
        redaction=row.redaction,
        redaction_patterns=tuple(row.redaction_patterns),
        dropped_calls=row.dropped_calls,
        updated_at=row.updated_at,
    )


def conversation_of(row: UsageContentRow) -> Conversation:
    return Conversation(
        workspace_id=row.workspace_id,
        event_id=row.event_id,
        messages=decode(row.body),
        truncated=row.truncated,
        omitted_messages=row.omitted_messages,
        redactions=row.redactions,
        original_bytes=row.original_bytes,
        stored_bytes=len(row.body),
        created_at=row.created_at,
    )
