"""Subscriptions of the usage module (over graphql-transport-ws, with a READ key in connection_init)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

import strawberry

from modules.core.principal import Principal
from modules.usage.filter.inputs import UsageFilter
from modules.usage.live.service import UsageLive
from modules.usage.sessions.types import SessionType
from modules.usage.types import UsageEventType


class LiveContext(Protocol):
    principal: Principal
    live: UsageLive

    def refresh_loaders(self) -> None: ...


@strawberry.type
class UsageSubscription:
    @strawberry.subscription(
        description="Every event stored from now on that matches the filter, whichever server process stored it."
    )
    async def usage_tracked(
        self, info: strawberry.Info[LiveContext], filter: UsageFilter
    ) -> AsyncGenerator[UsageEventType, None]:
        ctx = info.context
        async for event in ctx.live.tracked(ctx.principal, filter.to_model()):
            ctx.refresh_loaders()
            yield UsageEventType.from_model(event)

    @strawberry.subscription(description="A session of the workspace, as it is after each batch that adds to it.")
    async def session_updated(
        self, info: strawberry.Info[LiveContext], workspace_id: strawberry.ID
    ) -> AsyncGenerator[SessionType, None]:
        ctx = info.context
        async for summary in ctx.live.sessions_updated(ctx.principal, workspace_ref=str(workspace_id)):
            ctx.refresh_loaders()
            yield SessionType.from_model(summary)
