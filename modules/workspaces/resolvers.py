"""Workspace queries and mutations: thin, they call WorkspaceService."""

from __future__ import annotations

from typing import Protocol

import strawberry

from modules.core.principal import Principal
from modules.workspaces.service import WorkspaceService
from modules.workspaces.types import CreateWorkspaceInput, WorkspaceType


class WorkspacesContext(Protocol):
    """What these resolvers need of the per-request context."""

    principal: Principal
    workspaces: WorkspaceService


@strawberry.type
class WorkspaceQuery:
    @strawberry.field(description="One workspace by id or slug (NOT_FOUND if none).")
    async def workspace(self, info: strawberry.Info[WorkspacesContext], id: strawberry.ID) -> WorkspaceType:
        ctx = info.context
        return WorkspaceType.from_model(await ctx.workspaces.get(ctx.principal, str(id)))

    @strawberry.field(description="The workspaces this caller may see, oldest first.")
    async def workspaces(self, info: strawberry.Info[WorkspacesContext]) -> list[WorkspaceType]:
        ctx = info.context
        return [WorkspaceType.from_model(w) for w in await ctx.workspaces.list(ctx.principal)]


@strawberry.type
class WorkspaceMutation:
    @strawberry.mutation(description="Create a workspace; CONFLICT if the slug is taken.")
    async def create_workspace(
        self, info: strawberry.Info[WorkspacesContext], input: CreateWorkspaceInput
    ) -> WorkspaceType:
        ctx = info.context
        workspace = await ctx.workspaces.create(ctx.principal, name=input.name, slug=input.slug)
        return WorkspaceType.from_model(workspace)
