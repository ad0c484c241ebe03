"""Usage events: ingestion (ingest/), analytics (analytics/), rollups, sessions, the live stream, export,
retention. Other modules use what is listed here; budgets plug into ingestion as a StoredEventsHook."""

from modules.usage.analytics.aggregates import UsageAggregates
from modules.usage.filter.inputs import TagFilter
from modules.usage.ingest.service import StoredEventsHook, UsageService
from modules.usage.ingest.validation import DEFAULT_MAX_EVENT_AGE_DAYS
from modules.usage.records import TagCondition, UsageEvent, UsageFilterSpec

__all__ = [
    "DEFAULT_MAX_EVENT_AGE_DAYS",
    "StoredEventsHook",
    "TagCondition",
    "TagFilter",
    "UsageAggregates",
    "UsageEvent",
    "UsageFilterSpec",
    "UsageService",
]
