"""User queries and mutations: thin, they call UserService."""

from __future__ import annotations

import strawberry

from modules.core.pagination import PageInfo
from modules.users.types import UpsertUserInput, UserConnection, UserEdge, UsersContext, UserType


@strawberry.type
class UserQuery:
    @strawberry.field(description="The workspace's end users, ordered by id (Relay connection).")
    async def users(
        self,
        info: strawberry.Info[UsersContext],
        workspace_id: strawberry.ID,
        first: int = 100,
        after: str | None = None,
    ) -> UserConnection:
        ctx = info.context
        page = await ctx.users.page(ctx.principal, workspace_ref=str(workspace_id), first=first, after=after)
        edges = [UserEdge(cursor=page.cursor_of[u.external_id], node=UserType.from_model(u)) for u in page.users]
        return UserConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next=page.has_next_page, after=after),
            workspace_ref=str(workspace_id),
        )


@strawberry.type
class UserMutation:
    @strawberry.mutation(description="Set an end user's display name and email (creates the user if new).")
    async def upsert_user(self, info: strawberry.Info[UsersContext], input: UpsertUserInput) -> UserType:
        ctx = info.context
        user = await ctx.users.upsert(
            ctx.principal,
            workspace_ref=str(input.workspace_id),
            user_id=input.user_id,
            display_name=input.display_name,
            email=input.email,
        )
        return UserType.from_model(user)
