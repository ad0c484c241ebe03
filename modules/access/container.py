"""AccessContainer: imports the database and WorkspaceService, exports AccessService."""

from __future__ import annotations

from dependency_injector import containers, providers

from modules.access.keys import PrincipalCache
from modules.access.rate_limit import RateLimiter
from modules.access.repository import ApiKeyRepository
from modules.access.service import AccessService
from modules.core.database import Database
from modules.workspaces.service import WorkspaceService


class AccessContainer(containers.DeclarativeContainer):
    database = providers.Dependency(instance_of=Database)
    workspaces = providers.Dependency(instance_of=WorkspaceService)
    default_rate_limit = providers.Dependency(default=None)
    cache = providers.Singleton(PrincipalCache)
    limiter = providers.Singleton(RateLimiter)
    repository = providers.Singleton(ApiKeyRepository)
    service = providers.Factory(
        AccessService,
        database=database,
        repository=repository,
        workspaces=workspaces,
        cache=cache,
        limiter=limiter,
        default_rate_limit=default_rate_limit,
    )
