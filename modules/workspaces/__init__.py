"""Workspaces: the tenants. Other modules authorise a caller on a workspace through WorkspaceService."""

from modules.workspaces.service import Workspace, WorkspaceService

__all__ = [
    "Workspace",
    "WorkspaceService",
]
