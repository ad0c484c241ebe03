"""UsersContainer: imports the database and WorkspaceService, exports UserService."""

from __future__ import annotations

from dependency_injector import containers, providers

from modules.core.database import Database
from modules.users.repository import UserRepository
from modules.users.service import UserService
from modules.workspaces import WorkspaceService


class UsersContainer(containers.DeclarativeContainer):
    database = providers.Dependency(instance_of=Database)
    workspaces = providers.Dependency(instance_of=WorkspaceService)
    repository = providers.Singleton(UserRepository)
    service = providers.Singleton(UserService, database=database, repository=repository, workspaces=workspaces)
