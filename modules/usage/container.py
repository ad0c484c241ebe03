"""UsageContainer: imports the database and the workspaces, users and providers services; exports
UsageService (ingestion, re-costing) and UsageAnalyticsService (reads)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from dependency_injector import containers, providers

from modules.core.cache import NotifiedCache
from modules.core.database import Database
from modules.core.notifications import Notifications
from modules.providers import ProviderService
from modules.usage.analytics.aggregates import UsageAggregates
from modules.usage.analytics.grouping import GroupedUsageReader
from modules.usage.analytics.series import SeriesReader
from modules.usage.analytics.service import UsageAnalyticsService
from modules.usage.conversations.keeper import SETTINGS_CHANNEL, ContentKeeper
from modules.usage.conversations.records import ContentSettings
from modules.usage.conversations.repository import ConversationRepository
from modules.usage.conversations.retention import ContentRetention
from modules.usage.conversations.service import ConversationService
from modules.usage.ingest.group_commit import GroupCommit
from modules.usage.ingest.service import StoredEventsHook, UsageService
from modules.usage.ingest.validation import DEFAULT_MAX_EVENT_AGE_DAYS
from modules.usage.live.service import UsageLive, UsagePublisher
from modules.usage.repository import UsageRepository
from modules.usage.retention.partitions import EventPartitions
from modules.usage.retention.service import UsageRetention
from modules.usage.rollups.writer import RollupWriter
from modules.usage.sessions.repository import SessionRepository
from modules.usage.sessions.service import SessionService
from modules.users import UserService
from modules.workspaces import WorkspaceService


class UsageContainer(containers.DeclarativeContainer):
    database = providers.Dependency(instance_of=Database)
    read_database = providers.Dependency(instance_of=Database)  # analytics: a replica, or the primary
    export_database = providers.Dependency(instance_of=Database)  # exports' own pool on the same server
    workspaces = providers.Dependency(instance_of=WorkspaceService)
    users = providers.Dependency(instance_of=UserService)
    llm_providers = providers.Dependency(instance_of=ProviderService)
    max_event_age_days = providers.Dependency(instance_of=int, default=DEFAULT_MAX_EVENT_AGE_DAYS)
    retention_days: providers.Dependency[int | None] = providers.Dependency(default=None)  # None: events are kept
    # an observer of tracked events (metrics)
    on_tracked: providers.Dependency[Callable[..., None] | None] = providers.Dependency(default=None)
    on_content_dropped: providers.Dependency[Callable[[int], None] | None] = providers.Dependency(default=None)
    notifications = providers.Dependency(instance_of=Notifications)
    # run in the insert transaction (budgets)
    stored_hooks: providers.Dependency[Sequence[StoredEventsHook]] = providers.Dependency(default=())
    publisher = providers.Singleton(UsagePublisher)
    rollups = providers.Singleton(RollupWriter)
    repository = providers.Singleton(UsageRepository)
    group_commit = providers.Singleton(GroupCommit)  # per process: concurrent single calls share a transaction
    aggregates = providers.Singleton(UsageAggregates)
    grouping = providers.Singleton(GroupedUsageReader)
    session_repository = providers.Singleton(SessionRepository)
    sessions = providers.Singleton(
        SessionService, database=database, repository=session_repository, workspaces=workspaces
    )
    time_buckets = providers.Singleton(SeriesReader)
    partitions = providers.Singleton(EventPartitions, database=database, max_event_age_days=max_event_age_days)
    retention = providers.Singleton(
        UsageRetention, database=database, retention_days=retention_days, partitions=partitions
    )
    conversation_repository = providers.Singleton(ConversationRepository)
    content_settings_cache: providers.Singleton[NotifiedCache[UUID, ContentSettings]] = providers.Singleton(
        NotifiedCache, channel=SETTINGS_CHANNEL, notifications=notifications
    )
    content_keeper = providers.Singleton(
        ContentKeeper,
        database=database,
        repository=conversation_repository,
        cache=content_settings_cache,
        on_dropped=on_content_dropped,
    )
    content_retention = providers.Singleton(ContentRetention, database=database, repository=conversation_repository)
    conversations = providers.Singleton(
        ConversationService,
        database=database,
        repository=conversation_repository,
        workspaces=workspaces,
        event_retention_days=retention_days,
    )
    analytics = providers.Singleton(
        UsageAnalyticsService,
        database=read_database,
        export_database=export_database,
        repository=repository,
        aggregates=aggregates,
        grouping=grouping,
        time_buckets=time_buckets,
        workspaces=workspaces,
        users=users,
    )
    service = providers.Singleton(
        UsageService,
        database=database,
        repository=repository,
        workspaces=workspaces,
        users=users,
        providers=llm_providers,
        max_event_age_days=max_event_age_days,
        on_tracked=on_tracked,
        rollups=rollups,
        publisher=publisher,
        stored_hooks=stored_hooks,
        group_commit=group_commit,
        content=content_keeper,
    )
    live = providers.Singleton(
        UsageLive,
        database=database,
        repository=repository,
        workspaces=workspaces,
        sessions=sessions,
        notifications=notifications,
    )
