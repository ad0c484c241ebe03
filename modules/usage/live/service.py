"""The live stream of stored events. The storing transaction publishes the new event ids (per workspace)
on LISTEN/NOTIFY, so every server process hears every commit once; each process reads the events back for
its own subscribers, with the subscriber's filter applied in SQL. Two processes, two hosts: each event
reaches each subscriber once, through the process that subscriber is connected to."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.database import Database
from modules.core.notifications import MAX_PAYLOAD_BYTES, Notifications, publish
from modules.core.principal import Principal, Scope
from modules.usage.filter.resolve import resolve_filter
from modules.usage.records import SessionSummary, UsageEvent, UsageFilterDraft
from modules.usage.repository import UsageRepository
from modules.usage.sessions.service import SessionService
from modules.workspaces import WorkspaceService

EVENTS_CHANNEL = "llm_usage_events"


def payloads(events: Sequence[UsageEvent]) -> list[str]:
    """{"w": workspace, "ids": [...], "s": [session ids]} per workspace, packed to fit NOTIFY's payload limit."""
    by_workspace: dict[UUID, list[UsageEvent]] = defaultdict(list)
    for event in events:
        by_workspace[event.workspace_id].append(event)
    found = []
    for workspace_id, stored in by_workspace.items():
        ids: list[int] = []
        sessions: set[str] = set()
        size = 0
        for event in stored:
            if ids and size + added_size(event, sessions) > MAX_PAYLOAD_BYTES - 100:
                found.append(payload_text(workspace_id, ids, sessions))
                ids, sessions, size = [], set(), 0
            size += added_size(event, sessions)
            ids.append(event.id)
            if event.session_id is not None:
                sessions.add(event.session_id)
        found.append(payload_text(workspace_id, ids, sessions))
    return found


def added_size(event: UsageEvent, sessions: set[str]) -> int:
    """Characters an event adds to a payload, generously: its id, and its session id unless already in."""
    new_session = event.session_id is not None and event.session_id not in sessions
    return 21 + (len(json.dumps(event.session_id)) + 1 if new_session else 0)


def payload_text(workspace_id: UUID, ids: list[int], sessions: set[str]) -> str:
    return json.dumps({"w": str(workspace_id), "ids": ids, "s": sorted(sessions)}, separators=(",", ":"))


class UsagePublisher:
    """A stored-events hook: runs inside the insert transaction, so only committed events are announced."""

    async def on_stored(self, session: AsyncSession, events: Sequence[UsageEvent]) -> None:
        for payload in payloads(events):
            await publish(session, EVENTS_CHANNEL, payload)


class UsageLive:
    def __init__(
        self,
        *,
        database: Database,
        repository: UsageRepository,
        workspaces: WorkspaceService,
        sessions: SessionService,
        notifications: Notifications,
    ) -> None:
        self.database = database
        self.repository = repository
        self.workspaces = workspaces
        self.sessions = sessions
        self.notifications = notifications

    async def tracked(self, principal: Principal, given: UsageFilterDraft) -> AsyncIterator[UsageEvent]:
        """Every event stored from now on that matches the filter (READ on its workspace)."""
        spec = await resolve_filter(self.workspaces, principal, given, Scope.READ)
        async for announced in self._announcements(str(spec.workspace_id)):
            async with self.database.session_factory() as session:
                events = await self.repository.by_ids(session, announced["ids"], spec)
            for event in events:
                yield event

    async def sessions_updated(self, principal: Principal, *, workspace_ref: str) -> AsyncIterator[SessionSummary]:
        """Each session of the workspace, as it is after every stored batch that touched it (READ)."""
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.READ, field="workspaceId")
        async for announced in self._announcements(str(workspace.id)):
            if announced["s"]:
                for summary in await self.sessions.summaries(workspace.id, announced["s"]):
                    yield summary

    async def _announcements(self, workspace_id: str) -> AsyncIterator[dict[str, Any]]:
        async with self.notifications.subscribe(EVENTS_CHANNEL) as queue:
            while True:
                announced = json.loads(await queue.get())
                if announced["w"] == workspace_id:
                    yield announced
