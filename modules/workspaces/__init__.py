"""Workspaces: the tenants. Other modules authorise a caller on a workspace through WorkspaceService."""

from modules.workspaces.repository import Workspace
from modules.workspaces.service import WorkspaceService

__all__ = [
    "Workspace",
    "WorkspaceService",
]
