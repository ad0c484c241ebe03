"""ProvidersContainer (named `llm_providers` at the root): imports the database, the notifications bus and
WorkspaceService; exports ProviderService and its cache of workspace prices (the shell runs its listener)."""

from __future__ import annotations

from dependency_injector import containers, providers

from modules.core.cache import NotifiedCache
from modules.core.database import Database
from modules.core.notifications import Notifications
from modules.providers.catalogue import PriceCatalogue
from modules.providers.pricing import ModelPrice
from modules.providers.repository import ProviderRepository
from modules.providers.service import PRICES_CHANNEL, PriceKey, ProviderService
from modules.workspaces import WorkspaceService


class ProvidersContainer(containers.DeclarativeContainer):
    database = providers.Dependency(instance_of=Database)
    workspaces = providers.Dependency(instance_of=WorkspaceService)
    notifications = providers.Dependency(instance_of=Notifications)
    catalogue = providers.Singleton(PriceCatalogue)
    repository = providers.Singleton(ProviderRepository)
    price_cache: providers.Singleton[NotifiedCache[PriceKey, list[ModelPrice]]] = providers.Singleton(
        NotifiedCache, channel=PRICES_CHANNEL, notifications=notifications
    )
    service = providers.Singleton(
        ProviderService,
        database=database,
        repository=repository,
        catalogue=catalogue,
        workspaces=workspaces,
        overrides=price_cache,
    )
