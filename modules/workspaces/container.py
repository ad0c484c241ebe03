"""WorkspacesContainer: imports the database, exports WorkspaceService."""

from __future__ import annotations

from dependency_injector import containers, providers

from modules.core.cache import TtlCache
from modules.core.database import Database
from modules.workspaces.repository import WorkspaceRepository
from modules.workspaces.service import WorkspaceService


class WorkspacesContainer(containers.DeclarativeContainer):
    database = providers.Dependency(instance_of=Database)
    repository = providers.Singleton(WorkspaceRepository)
    # id or slug → workspace for 30 s: every request resolves its workspace, and workspaces do not change
    cache = providers.Singleton(TtlCache, ttl=30.0)
    service = providers.Singleton(WorkspaceService, database=database, repository=repository, cache=cache)
