"""Sessions: the calls one conversation (or agent run) made, summed; completed by the caller."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from modules.core.database import Database
from modules.core.errors import NotFound
from modules.core.pagination import check_page_size, decode_time_cursor
from modules.core.principal import Principal, Scope
from modules.usage.filter.resolve import resolve_filter
from modules.usage.records import SessionStats, SessionSummary, UsageEvent, UsageFilterDraft, UsageFilterSpec
from modules.usage.sessions.repository import SessionRepository
from modules.workspaces import WorkspaceService

MAX_SESSIONS_PAGE = 200


class SessionService:
    def __init__(self, *, database: Database, repository: SessionRepository, workspaces: WorkspaceService) -> None:
        self.database = database
        self.repository = repository
        self.workspaces = workspaces

    async def page(
        self, principal: Principal, given: UsageFilterDraft, *, first: int, after: str | None
    ) -> tuple[list[SessionSummary], bool]:
        """Sessions with events in the filter, by their last event, newest first."""
        check_page_size(first, maximum=MAX_SESSIONS_PAGE)
        spec = await resolve_filter(self.workspaces, principal, given)
        before = decode_time_cursor(after, str)
        async with self.database.session_factory() as session:
            found = await self.repository.page(session, spec, before=before, limit=first + 1)
        return found[:first], len(found) > first

    async def get(self, principal: Principal, *, workspace_ref: str, session_id: str) -> SessionSummary:
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.READ, field="workspaceId")
        return await self._summary(workspace.id, session_id)

    async def complete(self, principal: Principal, *, workspace_ref: str, session_id: str) -> SessionSummary:
        """Mark a session completed (idempotent: the first completion time stays). Needs INGEST."""
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.INGEST, field="workspaceId")
        await self._summary(workspace.id, session_id)
        async with self.database.session_factory.begin() as session:
            await self.repository.complete(session, workspace_id=workspace.id, session_id=session_id)
        return await self._summary(workspace.id, session_id)

    async def stats(self, principal: Principal, given: UsageFilterDraft) -> SessionStats:
        spec = await resolve_filter(self.workspaces, principal, given)
        async with self.database.session_factory() as session:
            return await self.repository.stats(session, spec)

    async def events_of(self, keys: Sequence[tuple[UUID, str]]) -> list[list[UsageEvent]]:
        """For a DataLoader, after access was checked: each session's events, one query per workspace."""
        found: dict[tuple[UUID, str], list[UsageEvent]] = {}
        async with self.database.session_factory() as session:
            for workspace_id in {w for w, _ in keys}:
                ids = [s for w, s in keys if w == workspace_id]
                events = await self.repository.events(session, workspace_id, ids)
                found.update({(workspace_id, s): e for s, e in events.items()})
        return [found.get(key, []) for key in keys]

    async def summaries(self, workspace_id: UUID, session_ids: Sequence[str]) -> list[SessionSummary]:
        """Sessions as they are now, for the live stream (its caller was authorized for the workspace)."""
        return [await self._summary(workspace_id, s) for s in session_ids]

    async def _summary(self, workspace_id: UUID, session_id: str) -> SessionSummary:
        spec = UsageFilterSpec(workspace_id=workspace_id, session_id=session_id)
        async with self.database.session_factory() as session:
            found = await self.repository.page(session, spec, before=None, limit=1)
        if not found:
            raise NotFound(f"no session {session_id!r} in this workspace")
        return found[0]
