"""API key queries and mutations: thin, they call AccessService."""

from __future__ import annotations

from typing import Protocol

import strawberry

from modules.access.service import AccessService
from modules.access.types import ApiKeyType, CreateApiKeyInput, CreateApiKeyPayload, ViewerType
from modules.core.principal import Principal


class AccessContext(Protocol):
    principal: Principal
    access: AccessService


@strawberry.type
class AccessQuery:
    @strawberry.field(
        description="The key this request is made with (any valid key): its scopes, workspace and rate limit, so that "
        "a client can tell what it may do before trying."
    )
    def viewer(self, info: strawberry.Info[AccessContext]) -> ViewerType:
        info.context.principal.require_authenticated()
        return ViewerType.from_principal(info.context.principal)

    @strawberry.field(description="A workspace's API keys (ADMIN); without workspaceId, the instance-wide keys.")
    async def api_keys(
        self, info: strawberry.Info[AccessContext], workspace_id: strawberry.ID | None = None
    ) -> list[ApiKeyType]:
        ctx = info.context
        keys = await ctx.access.list(ctx.principal, workspace_ref=str(workspace_id) if workspace_id else None)
        return [ApiKeyType.from_model(k) for k in keys]


@strawberry.type
class AccessMutation:
    @strawberry.mutation(description="Create an API key; the payload's `secret` is the only time it is shown.")
    async def create_api_key(
        self, info: strawberry.Info[AccessContext], input: CreateApiKeyInput
    ) -> CreateApiKeyPayload:
        ctx = info.context
        created = await ctx.access.create(
            ctx.principal,
            workspace_ref=str(input.workspace_id) if input.workspace_id else None,
            name=input.name,
            scopes=input.scopes,
            rate_limit_per_second=input.rate_limit_per_second,
        )
        return CreateApiKeyPayload(api_key=ApiKeyType.from_model(created.key), secret=created.secret)

    @strawberry.mutation(description="Revoke an API key: it stops working at once.")
    async def revoke_api_key(self, info: strawberry.Info[AccessContext], id: strawberry.ID) -> ApiKeyType:
        ctx = info.context
        return ApiKeyType.from_model(await ctx.access.revoke(ctx.principal, str(id)))
