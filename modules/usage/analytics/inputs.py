"""GraphQL inputs of the usage queries beyond the filter."""

from __future__ import annotations

import strawberry

from modules.usage.analytics.metrics import SortMetric
from modules.usage.analytics.types import SortDirection


@strawberry.input(description="Order groups by a metric. Default: COST_USD, DESC (ties: CALLS, then the values).")
class UsageOrder:
    by: SortMetric = SortMetric.COST_USD
    direction: SortDirection = SortDirection.DESC
