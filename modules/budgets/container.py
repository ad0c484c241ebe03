"""BudgetsContainer: imports the database, the notifications bus, WorkspaceService, ProviderService and the
operator's webhook allow-list; exports BudgetService, the accounting hook usage runs in its insert
transaction, and the webhook dispatcher."""

from __future__ import annotations

from uuid import UUID

from dependency_injector import containers, providers

from modules.budgets.accounting import BUDGETS_CHANNEL, BudgetAccounting
from modules.budgets.dispatcher import WebhookDispatcher
from modules.budgets.records import Budget
from modules.budgets.repository import BudgetRepository
from modules.budgets.service import BudgetService
from modules.budgets.targets import WebhookTargets
from modules.core.addresses import AllowList
from modules.core.cache import NotifiedCache
from modules.core.database import Database
from modules.core.notifications import Notifications
from modules.providers import ProviderService
from modules.usage import UsageAggregates
from modules.workspaces import WorkspaceService


class BudgetsContainer(containers.DeclarativeContainer):
    database = providers.Dependency(instance_of=Database)
    notifications = providers.Dependency(instance_of=Notifications)
    workspaces = providers.Dependency(instance_of=WorkspaceService)
    llm_providers = providers.Dependency(instance_of=ProviderService)
    webhook_retry_base_seconds = providers.Dependency(instance_of=float, default=30.0)
    webhook_poll_seconds = providers.Dependency(instance_of=float, default=5.0)
    webhook_allow_hosts = providers.Dependency(instance_of=tuple, default=())  # LLM_USAGE_WEBHOOK_ALLOW_HOSTS
    allow_list = providers.Singleton(AllowList.parse, webhook_allow_hosts)
    targets = providers.Singleton(WebhookTargets, allow=allow_list)
    repository = providers.Singleton(BudgetRepository)
    aggregates = providers.Singleton(UsageAggregates)
    budgets_cache: providers.Singleton[NotifiedCache[UUID, list[Budget]]] = providers.Singleton(
        NotifiedCache, channel=BUDGETS_CHANNEL, notifications=notifications
    )
    accounting = providers.Singleton(
        BudgetAccounting, repository=repository, aggregates=aggregates, cache=budgets_cache
    )
    service = providers.Singleton(
        BudgetService,
        database=database,
        repository=repository,
        aggregates=aggregates,
        workspaces=workspaces,
        providers=llm_providers,
        notifications=notifications,
        targets=targets,
        cache=budgets_cache,
    )
    dispatcher = providers.Singleton(
        WebhookDispatcher,
        database=database,
        repository=repository,
        notifications=notifications,
        targets=targets,
        retry_base_seconds=webhook_retry_base_seconds,
        poll_seconds=webhook_poll_seconds,
    )
