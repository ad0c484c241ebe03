"""Usage events: ingestion (ingest/), analytics (analytics/), rollups, sessions, the live stream, export,
retention. Other modules use what is listed here; budgets plug into ingestion as a StoredEventsHook."""

from modules.usage.analytics.aggregates import UsageAggregates
from modules.usage.conversations.keeper import ContentKeeper
from modules.usage.filter.inputs import TagFilter
from modules.usage.ingest.service import StoredEventsHook, UsageService
from modules.usage.ingest.validation import DEFAULT_MAX_EVENT_AGE_DAYS, MAX_BATCH_SIZE, TEXT_LIMITS
from modules.usage.records import TagCondition, TrackResult, UsageDraft, UsageEvent, UsageFilterSpec, UsageStatus

__all__ = [
    "DEFAULT_MAX_EVENT_AGE_DAYS",
    "MAX_BATCH_SIZE",
    "TEXT_LIMITS",
    "ContentKeeper",
    "StoredEventsHook",
    "TagCondition",
    "TagFilter",
    "TrackResult",
    "UsageAggregates",
    "UsageDraft",
    "UsageEvent",
    "UsageFilterSpec",
    "UsageService",
    "UsageStatus",
]
