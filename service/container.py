"""ApplicationContainer: the configuration, the database, and one sub-container per module."""

from __future__ import annotations

from dependency_injector import containers, providers

from modules.access.container import AccessContainer
from modules.budgets.container import BudgetsContainer
from modules.providers.container import ProvidersContainer
from modules.proxy import ProxyContainer
from modules.usage.container import UsageContainer
from modules.users.container import UsersContainer
from modules.workspaces.container import WorkspacesContainer
from service.config import Settings
from service.database import open_database, open_export_database, open_notifications, open_read_database
from service.errors import database_away
from service.observability import PrometheusMetrics


class ApplicationContainer(containers.DeclarativeContainer):
    settings = providers.Singleton(Settings.from_env)
    metrics = providers.Singleton(PrometheusMetrics)
    database = providers.Resource(
        open_database,
        database_url=settings.provided.database_url,
        data_dir=settings.provided.data_dir,
        pooler=settings.provided.database_pooler,
    )
    read_database = providers.Resource(
        open_read_database,
        read_url=settings.provided.database_read_url,
        primary=database,
        pooler=settings.provided.database_pooler,
    )
    export_database = providers.Resource(
        open_export_database,
        read=read_database,
        limits=settings.provided.export_limits,
        pooler=settings.provided.database_pooler,
    )
    notifications = providers.Resource(
        open_notifications, database=database, listen_url=settings.provided.database_listen_url
    )
    workspaces = providers.Container(WorkspacesContainer, database=database)
    access = providers.Container(
        AccessContainer,
        database=database,
        notifications=notifications,
        workspaces=workspaces.service,
        default_rate_limit=settings.provided.rate_limit_per_second,
        max_rate_limit=settings.provided.max_rate_limit_per_second,
    )
    users = providers.Container(UsersContainer, database=database, workspaces=workspaces.service)
    llm_providers = providers.Container(
        ProvidersContainer, database=database, workspaces=workspaces.service, notifications=notifications
    )
    budgets = providers.Container(
        BudgetsContainer,
        database=database,
        notifications=notifications,
        workspaces=workspaces.service,
        llm_providers=llm_providers.service,
        webhook_retry_base_seconds=settings.provided.webhook_retry_base_seconds,
        webhook_poll_seconds=settings.provided.webhook_poll_seconds,
        webhook_allow_hosts=settings.provided.webhook_allow_hosts,
    )
    usage = providers.Container(
        UsageContainer,
        database=database,
        read_database=read_database,
        export_database=export_database,
        workspaces=workspaces.service,
        users=users.service,
        llm_providers=llm_providers.service,
        max_event_age_days=settings.provided.accepted_event_age_days,
        retention_days=settings.provided.retention_days,
        on_tracked=metrics.provided.tracked,
        on_content_dropped=metrics.provided.content_dropped_calls,
        notifications=notifications,
        stored_hooks=providers.List(budgets.accounting),
    )
    proxy = providers.Container(
        ProxyContainer,
        usage=usage.service,
        keys=access.service,
        instances=llm_providers.service,
        workspaces=workspaces.service,
        content=usage.content_keeper,
        settings=settings.provided.proxy,
        observe_call=metrics.provided.proxy_call,
        observe_recorded=metrics.provided.proxy_recorded,
        transient=providers.Object(database_away),
    )
