"""GraphQL surface of the users module."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import strawberry

from modules.core.pagination import PageInfo
from modules.core.principal import Principal
from modules.users.repository import User as UserData
from modules.users.service import UserService


class UsersContext(Protocol):
    principal: Principal
    users: UserService


@strawberry.type(name="User", description="An end user of the caller, named by the caller's own id.")
class UserType:
    id: str = strawberry.field(description="The caller's own id for this end user (the userId of events).")
    workspace_id: strawberry.ID
    display_name: str | None
    email: str | None
    created_at: datetime = strawberry.field(description="When the user was first seen or registered.")
    updated_at: datetime

    @classmethod
    def from_model(cls, user: UserData) -> UserType:
        return cls(
            id=user.external_id,
            workspace_id=strawberry.ID(str(user.workspace_id)),
            display_name=user.display_name,
            email=user.email,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


@strawberry.type
class UserEdge:
    cursor: str
    node: UserType


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo
    workspace_ref: strawberry.Private[str]

    @strawberry.field(description="How many users the workspace has (one extra query; ask only if shown).")
    async def total_count(self, info: strawberry.Info[UsersContext]) -> int:
        ctx = info.context
        return await ctx.users.count(ctx.principal, workspace_ref=self.workspace_ref)


@strawberry.input(description="Name an end user; creates it if it was not seen yet.")
class UpsertUserInput:
    workspace_id: strawberry.ID
    user_id: str
    display_name: str | None = None
    email: str | None = None
