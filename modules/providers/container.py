"""ProvidersContainer (named `llm_providers` at the root): imports the database and WorkspaceService,
exports ProviderService."""

from __future__ import annotations

from dependency_injector import containers, providers

from modules.core.database import Database
from modules.providers.catalogue import PriceCatalogue
from modules.providers.repository import ProviderRepository
from modules.providers.service import ProviderService
from modules.workspaces import WorkspaceService


class ProvidersContainer(containers.DeclarativeContainer):
    database = providers.Dependency(instance_of=Database)
    workspaces = providers.Dependency(instance_of=WorkspaceService)
    catalogue = providers.Singleton(PriceCatalogue)
    repository = providers.Singleton(ProviderRepository)
    service = providers.Factory(
        ProviderService, database=database, repository=repository, catalogue=catalogue, workspaces=workspaces
    )
