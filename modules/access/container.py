"""AccessContainer: imports the database, the notifications bus and WorkspaceService; exports AccessService and
KeyRevocations (run by the shell in every process)."""

from __future__ import annotations

from dependency_injector import containers, providers

from modules.access.keys import PrincipalCache
from modules.access.rate_limit import RateLimiter
from modules.access.repository import ApiKeyRepository
from modules.access.revocations import KeyRevocations
from modules.access.service import AccessService
from modules.core.database import Database
from modules.core.notifications import Notifications
from modules.workspaces import WorkspaceService


class AccessContainer(containers.DeclarativeContainer):
    database = providers.Dependency(instance_of=Database)
    workspaces = providers.Dependency(instance_of=WorkspaceService)
    notifications = providers.Dependency(instance_of=Notifications)
    default_rate_limit: providers.Dependency[float | None] = providers.Dependency(default=None)
    max_rate_limit: providers.Dependency[float] = providers.Dependency(default=1000.0)
    cache = providers.Singleton(PrincipalCache)
    revocations = providers.Singleton(KeyRevocations, cache=cache, notifications=notifications)
    limiter = providers.Singleton(RateLimiter)
    repository = providers.Singleton(ApiKeyRepository)
    service = providers.Singleton(
        AccessService,
        database=database,
        repository=repository,
        workspaces=workspaces,
        cache=cache,
        limiter=limiter,
        revocations=revocations,
        default_rate_limit=default_rate_limit,
        max_rate_limit=max_rate_limit,
    )
