"""All SQL of the access module."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from modules.access.models import ApiKeyRow
from modules.core.principal import Scope


@dataclass(frozen=True)
class ApiKey:
    id: UUID
    workspace_id: UUID | None
    name: str
    prefix: str
    scopes: frozenset[Scope]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    rate_limit_per_second: float | None = None

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            id=row.id,
            workspace_id=row.workspace_id,
            name=row.name,
            prefix=row.prefix,
            scopes=frozenset(Scope(s) for s in row.scopes),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
            rate_limit_per_second=row.rate_limit_per_second,
        )


class ApiKeyRepository:
    async def insert(
        self,
        session: AsyncSession,
        *,
        workspace_id: UUID | None,
        name: str,
        prefix: str,
        key_hash: str,
        scopes: Sequence[Scope],
        rate_limit_per_second: float | None = None,
    ) -> ApiKey:
        statement = (
            insert(ApiKeyRow)
            .values(
                workspace_id=workspace_id,
                name=name,
                prefix=prefix,
                key_hash=key_hash,
                scopes=sorted(s.value for s in scopes),
                rate_limit_per_second=rate_limit_per_second,
            )
            .returning(ApiKeyRow)
        )
        return ApiKey.from_row((await session.execute(statement)).scalar_one())

    async def use(self, session: AsyncSession, key_hash: str) -> ApiKey | None:
        """The live key with this hash, marked as used now; None when unknown or revoked."""
        statement = (
            update(ApiKeyRow)
            .where(ApiKeyRow.key_hash == key_hash, ApiKeyRow.revoked_at.is_(None))
            .values(last_used_at=func.now())
            .returning(ApiKeyRow)
        )
        row = (await session.execute(statement)).scalar_one_or_none()
        return ApiKey.from_row(row) if row else None

    async def revoked_at(self, session: AsyncSession, key_hash: str) -> datetime | None:
        """When the key with this hash was revoked; None when there is no such key (or it is live)."""
        statement = select(ApiKeyRow.revoked_at).where(ApiKeyRow.key_hash == key_hash)
        return (await session.execute(statement)).scalar_one_or_none()

    async def get(self, session: AsyncSession, key_id: UUID) -> ApiKey | None:
        row = await session.get(ApiKeyRow, key_id)
        return ApiKey.from_row(row) if row else None

    async def revoke(self, session: AsyncSession, key_id: UUID) -> tuple[ApiKey, str] | None:
        """The revoked key and its hash (revoking twice keeps the first time)."""
        statement = (
            update(ApiKeyRow)
            .where(ApiKeyRow.id == key_id)
            .values(revoked_at=func.coalesce(ApiKeyRow.revoked_at, func.now()))
            .returning(ApiKeyRow)
        )
        row = (await session.execute(statement)).scalar_one_or_none()
        return (ApiKey.from_row(row), row.key_hash) if row else None

    async def list(self, session: AsyncSession, *, workspace_id: UUID | None) -> list[ApiKey]:
        """A workspace's keys, or (None) the instance-wide keys; newest first."""
        condition = ApiKeyRow.workspace_id.is_(None) if workspace_id is None else ApiKeyRow.workspace_id == workspace_id
        statement = select(ApiKeyRow).where(condition).order_by(ApiKeyRow.created_at.desc(), ApiKeyRow.name)
        return [ApiKey.from_row(row) for row in await session.scalars(statement)]

    async def count(self, session: AsyncSession) -> int:
        return (await session.execute(select(func.count()).select_from(ApiKeyRow))).scalar_one()
