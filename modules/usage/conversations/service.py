"""Conversation content: a workspace's setting (READ sees it, ADMIN changes it), reading stored content (the
CONTENT scope, every read logged with the key that made it) and the audit log of those reads (ADMIN)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID

from modules.core.cache import announce_change
from modules.core.database import Database
from modules.core.errors import BadUserInput, Forbidden, Problem
from modules.core.pagination import check_page_size
from modules.core.principal import Principal, Scope
from modules.usage.conversations.keeper import SETTINGS_CHANNEL
from modules.usage.conversations.records import ContentRead, ContentSettings, ContentSettingsDraft, Conversation
from modules.usage.conversations.redaction import MAX_PATTERNS, check_pattern
from modules.usage.conversations.repository import ConversationRepository
from modules.workspaces import WorkspaceService

MAX_RETENTION_DAYS = 3650
MAX_READS_PAGE = 500


class ConversationService:
    def __init__(
        self,
        *,
        database: Database,
        repository: ConversationRepository,
        workspaces: WorkspaceService,
        event_retention_days: int | None = None,
    ) -> None:
        self.database = database
        self.repository = repository
        self.workspaces = workspaces
        self.event_retention_days = event_retention_days

    async def settings(self, principal: Principal, workspace_ref: str) -> ContentSettings:
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.READ, field="workspaceId")
        async with self.database.session_factory() as session:
            return (await self.repository.settings(session, [workspace.id]))[workspace.id]

    async def set_settings(self, principal: Principal, draft: ContentSettingsDraft) -> ContentSettings:
        workspace = await self.workspaces.authorize(principal, draft.workspace_id, Scope.ADMIN, field="workspaceId")
        self._check(draft)
        async with self.database.session_factory.begin() as session:
            current = (await self.repository.settings(session, [workspace.id]))[workspace.id]
            wanted = replace(
                current,
                enabled=draft.enabled,
                retention_days=current.retention_days if draft.retention_days is None else draft.retention_days,
                redaction=current.redaction if draft.redaction is None else draft.redaction,
                redaction_patterns=(
                    current.redaction_patterns if draft.redaction_patterns is None else draft.redaction_patterns
                ),
            )
            saved = await self.repository.save_settings(session, wanted)
            await announce_change(session, SETTINGS_CHANNEL)
        return saved

    def _check(self, draft: ContentSettingsDraft) -> None:
        problems = []
        days = draft.retention_days
        if days is not None:
            if not 1 <= days <= MAX_RETENTION_DAYS:
                problems.append(
                    Problem("retentionDays", f"must be between 1 and {MAX_RETENTION_DAYS} days (got {days})")
                )
            elif self.event_retention_days is not None and days >= self.event_retention_days:
                problems.append(
                    Problem(
                        "retentionDays",
                        f"must be shorter than this server's event retention ({self.event_retention_days} days; "
                        f"got {days})",
                    )
                )
        patterns = draft.redaction_patterns or ()
        if len(patterns) > MAX_PATTERNS:
            problems.append(Problem("redactionPatterns", f"at most {MAX_PATTERNS} patterns (got {len(patterns)})"))
        for index, pattern in enumerate(patterns):
            if (reason := check_pattern(pattern)) is not None:
                problems.append(Problem("redactionPatterns", reason, index))
        if problems:
            raise BadUserInput(problems)

    async def conversations(
        self, principal: Principal, keys: Sequence[tuple[UUID, int]], *, operation: str | None = None
    ) -> list[Conversation | Forbidden | None]:
        """Each (workspace, event)'s stored content (None: none kept), or FORBIDDEN where the key lacks the
        CONTENT scope on that workspace. What is returned is logged, one entry per workspace, in the same
        transaction: content is never shown without its read being recorded."""
        allowed: list[tuple[UUID, int]] = []
        refusals: dict[UUID, Forbidden] = {}
        for workspace_id, event_id in keys:
            try:
                principal.require(Scope.CONTENT, workspace_id)
            except Forbidden as refused:
                refusals[workspace_id] = refused
                continue
            allowed.append((workspace_id, event_id))
        found: dict[tuple[UUID, int], Conversation] = {}
        if allowed:
            async with self.database.session_factory.begin() as session:
                found = await self.repository.conversations(session, allowed)
                read: defaultdict[UUID, list[int]] = defaultdict(list)
                for workspace_id, event_id in found:
                    read[workspace_id].append(event_id)
                for workspace_id, event_ids in sorted(read.items()):
                    await self.repository.log_read(
                        session,
                        workspace_id=workspace_id,
                        key_id=principal.key_id,
                        reader=principal.name,
                        operation=operation,
                        event_ids=event_ids,
                    )
        return [refusals.get(key[0]) or found.get(key) for key in keys]

    async def reads(
        self, principal: Principal, workspace_ref: str, *, first: int, before: int | None
    ) -> tuple[list[ContentRead], bool]:
        """The audit log of content reads, newest first (ADMIN)."""
        check_page_size(first, maximum=MAX_READS_PAGE)
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.ADMIN, field="workspaceId")
        async with self.database.session_factory() as session:
            found = await self.repository.reads(session, workspace.id, before_id=before, limit=first + 1)
        return found[:first], len(found) > first
