"""GraphQL surface of the workspaces module."""

from __future__ import annotations

from datetime import datetime

import strawberry

from modules.workspaces.repository import Workspace as WorkspaceData


@strawberry.type(name="Workspace", description="A tenant: every usage event belongs to one workspace.")
class WorkspaceType:
    id: strawberry.ID
    slug: str
    name: str
    created_at: datetime

    @classmethod
    def from_model(cls, workspace: WorkspaceData) -> WorkspaceType:
        return cls(
            id=strawberry.ID(str(workspace.id)),
            slug=workspace.slug,
            name=workspace.name,
            created_at=workspace.created_at,
        )


@strawberry.input(description="A new workspace. `slug` is its short name, usable wherever a workspaceId is.")
class CreateWorkspaceInput:
    name: str
    slug: str
