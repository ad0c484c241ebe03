"""Conversation queries and mutations: thin, they call ConversationService."""

from __future__ import annotations

import strawberry

from modules.core.errors import BadUserInput
from modules.core.pagination import PageInfo, decode_cursor
from modules.usage.conversations.types import (
    ContentReadConnection,
    ContentReadEdge,
    ContentReadType,
    ContentSettingsType,
    ConversationsContext,
    SetContentSettingsInput,
    read_cursor,
)


@strawberry.type
class ConversationQuery:
    @strawberry.field(description="Whether the workspace keeps what its calls said (READ).")
    async def content_settings(
        self, info: strawberry.Info[ConversationsContext], workspace_id: strawberry.ID
    ) -> ContentSettingsType:
        ctx = info.context
        return ContentSettingsType.from_model(await ctx.conversations.settings(ctx.principal, str(workspace_id)))

    @strawberry.field(description="Who read which content, newest first (ADMIN; Relay connection).")
    async def content_reads(
        self,
        info: strawberry.Info[ConversationsContext],
        workspace_id: strawberry.ID,
        first: int = 50,
        after: str | None = None,
    ) -> ContentReadConnection:
        ctx = info.context
        before = None
        if after is not None:
            [before] = decode_cursor(after, size=1)
            if not isinstance(before, int):
                raise BadUserInput.of("after", "is not a cursor returned by this API")
        found, has_next = await ctx.conversations.reads(ctx.principal, str(workspace_id), first=first, before=before)
        edges = [ContentReadEdge(cursor=read_cursor(r), node=ContentReadType.from_model(r)) for r in found]
        return ContentReadConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next=has_next, after=after),
        )


@strawberry.type
class ConversationMutation:
    @strawberry.mutation(
        description="Turn content keeping on or off for a workspace, with its retention and redaction (ADMIN)."
    )
    async def set_content_settings(
        self, info: strawberry.Info[ConversationsContext], input: SetContentSettingsInput
    ) -> ContentSettingsType:
        ctx = info.context
        return ContentSettingsType.from_model(await ctx.conversations.set_settings(ctx.principal, input.to_model()))
