"""Session queries and mutations: thin, they call SessionService."""

from __future__ import annotations

from typing import Protocol

import strawberry

from modules.core.pagination import PageInfo
from modules.core.principal import Principal, Scope
from modules.usage.filter.inputs import UsageFilter
from modules.usage.sessions.service import SessionService
from modules.usage.sessions.types import (
    CompleteSessionPayload,
    SessionConnection,
    SessionEdge,
    SessionStatsType,
    SessionType,
    session_cursor,
)


class SessionsContext(Protocol):
    principal: Principal
    sessions: SessionService


@strawberry.type
class SessionQuery:
    @strawberry.field(description="Sessions with events in the filter, newest last event first (Relay connection).")
    async def sessions(
        self, info: strawberry.Info[SessionsContext], filter: UsageFilter, first: int = 20, after: str | None = None
    ) -> SessionConnection:
        ctx = info.context
        found, has_next = await ctx.sessions.page(ctx.principal, filter.to_model(), first=first, after=after)
        edges = [SessionEdge(cursor=session_cursor(s), node=SessionType.from_model(s)) for s in found]
        return SessionConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next=has_next, after=after),
        )

    @strawberry.field(description="One session with its events (NOT_FOUND if it has none).")
    async def session(
        self, info: strawberry.Info[SessionsContext], workspace_id: strawberry.ID, id: str
    ) -> SessionType:
        ctx = info.context
        return SessionType.from_model(
            await ctx.sessions.get(ctx.principal, workspace_ref=str(workspace_id), session_id=id)
        )

    @strawberry.field(description="How many sessions, and their average calls, duration and cost.")
    async def session_stats(self, info: strawberry.Info[SessionsContext], filter: UsageFilter) -> SessionStatsType:
        ctx = info.context
        return SessionStatsType.from_model(await ctx.sessions.stats(ctx.principal, filter.to_model()))


@strawberry.type
class SessionMutation:
    @strawberry.mutation(description="Mark a session COMPLETED (idempotent; INGEST keys may).")
    async def complete_session(
        self, info: strawberry.Info[SessionsContext], workspace_id: strawberry.ID, id: str
    ) -> CompleteSessionPayload:
        ctx = info.context
        summary = await ctx.sessions.complete(ctx.principal, workspace_ref=str(workspace_id), session_id=id)
        return CompleteSessionPayload.from_model(summary, readable=ctx.principal.allows(Scope.READ))
