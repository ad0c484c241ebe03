"""Usage events: ingestion (ingest/), analytics (analytics/), rollups, sessions, the live stream, export,
retention. Other modules use what is listed here; budgets plug into ingestion as a StoredEventsHook."""

from modules.usage.analytics.aggregates import UsageAggregates
from modules.usage.filter.inputs import TagFilter
from modules.usage.ingest.service import StoredEventsHook, UsageService
from modules.usage.records import TagCondition, UsageEvent, UsageFilterSpec

__all__ = [
    "StoredEventsHook",
    "TagCondition",
    "TagFilter",
    "UsageAggregates",
    "UsageEvent",
    "UsageFilterSpec",
    "UsageService",
]
