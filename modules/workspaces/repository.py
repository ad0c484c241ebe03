"""All SQL of the workspaces module."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from modules.workspaces.models import WorkspaceRow


@dataclass(frozen=True)
class Workspace:
    id: UUID
    slug: str
    name: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: WorkspaceRow) -> Workspace:
        return cls(id=row.id, slug=row.slug, name=row.name, created_at=row.created_at)


class WorkspaceRepository:
    async def insert(self, session: AsyncSession, *, name: str, slug: str) -> Workspace | None:
        """The new workspace, or None when the slug is taken."""
        statement = (
            insert(WorkspaceRow)
            .values(name=name, slug=slug)
            .on_conflict_do_nothing(index_elements=[WorkspaceRow.slug])
            .returning(WorkspaceRow)
        )
        row = (await session.execute(statement)).scalar_one_or_none()
        return Workspace.from_row(row) if row else None

    async def find(self, session: AsyncSession, *, ids: Collection[UUID], slugs: Collection[str]) -> list[Workspace]:
        if not ids and not slugs:
            return []
        statement = select(WorkspaceRow).where(or_(WorkspaceRow.id.in_(ids), WorkspaceRow.slug.in_(slugs)))
        return [Workspace.from_row(row) for row in (await session.scalars(statement))]

    async def list_all(self, session: AsyncSession) -> list[Workspace]:
        rows = await session.scalars(select(WorkspaceRow).order_by(WorkspaceRow.created_at, WorkspaceRow.slug))
        return [Workspace.from_row(row) for row in rows]
