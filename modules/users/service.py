"""End users: registered on first sight by ingestion, named and listed by people."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.database import Database
from modules.core.errors import BadUserInput, Problem
from modules.core.pagination import check_page_size, decode_cursor, encode_cursor
from modules.core.principal import Principal, Scope
from modules.users.repository import User, UserRepository
from modules.workspaces import WorkspaceService

MAX_USER_ID_LENGTH = 256
MAX_DISPLAY_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 320
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    has_next_page: bool
    cursor_of: dict[str, str]


class UserService:
    def __init__(self, *, database: Database, repository: UserRepository, workspaces: WorkspaceService) -> None:
        self.database = database
        self.repository = repository
        self.workspaces = workspaces

    async def register_seen(self, session: AsyncSession, pairs: Collection[tuple[UUID, str]]) -> None:
        """Inside the caller's transaction: make sure each (workspace, user id) exists."""
        await self.repository.insert_missing(session, pairs)

    async def upsert(
        self,
        principal: Principal,
        *,
        workspace_ref: str,
        user_id: str,
        display_name: str | None,
        email: str | None,
    ) -> User:
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.ADMIN, field="workspaceId")
        problems = []
        if not 1 <= len(user_id) <= MAX_USER_ID_LENGTH or "\x00" in user_id:
            problems.append(Problem("userId", f"must be 1 to {MAX_USER_ID_LENGTH} characters, without NUL"))
        if display_name is not None and (len(display_name) > MAX_DISPLAY_NAME_LENGTH or "\x00" in display_name):
            problems.append(Problem("displayName", f"must be at most {MAX_DISPLAY_NAME_LENGTH} characters"))
        if email is not None and (len(email) > MAX_EMAIL_LENGTH or "@" not in email or "\x00" in email):
            problems.append(Problem("email", f"must be an address with '@', at most {MAX_EMAIL_LENGTH} characters"))
        if problems:
            raise BadUserInput(problems)
        async with self.database.session_factory.begin() as session:
            return await self.repository.upsert(
                session,
                workspace_id=workspace.id,
                external_id=user_id,
                display_name=display_name,
                email=email,
            )

    async def page(self, principal: Principal, *, workspace_ref: str, first: int, after: str | None) -> UserPage:
        check_page_size(first, maximum=MAX_PAGE_SIZE)
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.READ, field="workspaceId")
        after_id = str(decode_cursor(after, size=1)[0]) if after else None
        async with self.database.session_factory() as session:
            users = await self.repository.page(session, workspace_id=workspace.id, after=after_id, limit=first + 1)
        return UserPage(
            users=users[:first],
            has_next_page=len(users) > first,
            cursor_of={u.external_id: encode_cursor(u.external_id) for u in users[:first]},
        )

    async def by_keys(self, keys: Collection[tuple[UUID, str]]) -> dict[tuple[UUID, str], User]:
        """Users by (workspace, user id), in one query: for DataLoaders, after the caller's access was checked."""
        async with self.database.session_factory() as session:
            users = await self.repository.by_keys(session, keys)
        return {(u.workspace_id, u.external_id): u for u in users}

    async def count(self, principal: Principal, *, workspace_ref: str) -> int:
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.READ, field="workspaceId")
        async with self.database.session_factory() as session:
            return await self.repository.count(session, workspace_id=workspace.id)
