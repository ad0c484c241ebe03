"""Usage queries: thin, they call UsageAnalyticsService."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Protocol

import strawberry

from modules.core.pagination import PageInfo
from modules.core.principal import Principal
from modules.usage.analytics.dimensions import UsageDimension
from modules.usage.analytics.grouped_types import GroupedUsageType
from modules.usage.analytics.inputs import UsageOrder
from modules.usage.analytics.metrics import SortMetric
from modules.usage.analytics.selection import asks_percentiles_under, child_fields, metric_needs, selects_under
from modules.usage.analytics.series import TimeInterval
from modules.usage.analytics.series_types import UsageTimeSeriesType
from modules.usage.analytics.service import UsageAnalyticsService, event_cursor
from modules.usage.analytics.types import (
    SortDirection,
    UnpricedModelType,
    UsageAnalyticsType,
    UsageComparison,
    UsageEventConnection,
    UsageEventEdge,
)
from modules.usage.analytics.user_types import TopUsersBy, UserActivityType, UserUsageType
from modules.usage.export.formats import ExportFormat, filter_query
from modules.usage.filter.inputs import UsageFilter
from modules.usage.records import UsageFilterDraft
from modules.usage.types import UsageEventType

# usageAnalytics' breakdowns, by the dimension each groups by.
BREAKDOWN_FIELDS = {
    "byProvider": UsageDimension.PROVIDER,
    "byModel": UsageDimension.MODEL,
    "byTaskType": UsageDimension.TASK_TYPE,
}

# strawberry.enum marks the class in place: fields annotate with the class itself, in types decorated after
# this (strawberry resolves a field's type when its class is decorated).
strawberry.enum(ExportFormat, name="ExportFormat")


class AnalyticsContext(Protocol):
    public_url: str | None
    principal: Principal
    analytics: UsageAnalyticsService


@strawberry.type
class UsageQuery:
    @strawberry.field(description="Totals and breakdowns by provider, model and task type of the filtered events.")
    async def usage_analytics(
        self, info: strawberry.Info[AnalyticsContext], filter: UsageFilter, compare_to: UsageComparison | None = None
    ) -> UsageAnalyticsType:
        ctx = info.context
        breakdown = await ctx.analytics.breakdown(
            ctx.principal,
            filter.to_model(),
            compare_to_previous=compare_to == UsageComparison.PREVIOUS_PERIOD,
            needs=metric_needs(info),
            grouped_percentiles=[d for field, d in BREAKDOWN_FIELDS.items() if asks_percentiles_under(info, field)],
            with_groups=bool(child_fields(info) & BREAKDOWN_FIELDS.keys()),
        )
        return UsageAnalyticsType.from_model(breakdown)

    @strawberry.field(description="The filtered events, newest first (Relay connection, at most 500 a page).")
    async def usage_events(
        self,
        info: strawberry.Info[AnalyticsContext],
        filter: UsageFilter,
        first: int = 50,
        after: str | None = None,
    ) -> UsageEventConnection:
        ctx = info.context
        spec, page = await ctx.analytics.events_page(ctx.principal, filter.to_model(), first=first, after=after)
        edges = [UsageEventEdge(cursor=event_cursor(e), node=UsageEventType.from_model(e)) for e in page.events]
        return UsageEventConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next=page.has_next_page, after=after),
            spec=spec,
        )

    @strawberry.field(
        description="Events grouped by up to 4 dimensions (TAG groups by the tag `tagKey`), ordered by any "
        "metric; the first `limit` groups (at most 1,000) and `others` summing the rest."
    )
    async def usage(
        self,
        info: strawberry.Info[AnalyticsContext],
        filter: UsageFilter,
        group_by: list[UsageDimension],
        order_by: UsageOrder | None = None,
        limit: int = 100,
        tag_key: str | None = None,
    ) -> GroupedUsageType:
        ctx = info.context
        order = order_by or UsageOrder()
        grouped = await ctx.analytics.grouped(
            ctx.principal,
            filter.to_model(),
            dimensions=list(group_by),
            tag_key=tag_key,
            order_by=order.by,
            descending=order.direction == SortDirection.DESC,
            limit=limit,
            needs=metric_needs(info),
            with_others="others" in child_fields(info),
        )
        return GroupedUsageType.from_model(grouped, tuple(group_by))

    @strawberry.field(
        description="Usage per time bucket aligned to `timeZone` (IANA; a DST day has 23 or 25 hours), empty "
        "buckets filled with zeros, at most 2,000 buckets; optionally each bucket's groups."
    )
    async def usage_time_series(
        self,
        info: strawberry.Info[AnalyticsContext],
        filter: UsageFilter,
        interval: TimeInterval,
        time_zone: str = "UTC",
        group_by: list[UsageDimension] | None = None,
        tag_key: str | None = None,
    ) -> UsageTimeSeriesType:
        ctx = info.context
        dimensions = tuple(group_by or ())
        series = await ctx.analytics.time_series(
            ctx.principal,
            filter.to_model(),
            interval=interval,
            time_zone=time_zone,
            dimensions=list(dimensions),
            tag_key=tag_key,
            needs=metric_needs(info),
            totals=not dimensions or selects_under(info, ("buckets", "metrics"), ("columns", "totals")),
            columns_only=not selects_under(info, ("buckets",)),
        )
        return UsageTimeSeriesType(interval=interval, time_zone=time_zone, series=series, dimensions=dimensions)

    @strawberry.field(description="The end users who used most (by cost, calls or tokens) within the filter.")
    async def top_users(
        self,
        info: strawberry.Info[AnalyticsContext],
        filter: UsageFilter,
        by: TopUsersBy = TopUsersBy.COST,
        limit: int = 10,
    ) -> list[UserUsageType]:
        ctx = info.context
        metric = {
            TopUsersBy.COST: SortMetric.COST_USD,
            TopUsersBy.CALLS: SortMetric.CALLS,
            TopUsersBy.TOKENS: SortMetric.TOTAL_TOKENS,
        }[by]
        grouped = await ctx.analytics.top_users(
            ctx.principal, filter.to_model(), by=metric, limit=limit, needs=metric_needs(info)
        )
        return [UserUsageType.from_group(g, grouped.workspace_id) for g in grouped.groups]

    @strawberry.field(
        description="One end user's usage (within the optional range): totals, first and last seen, models, and "
        "their latest calls: which customer burned the quota, and on what."
    )
    async def user(
        self,
        info: strawberry.Info[AnalyticsContext],
        workspace_id: strawberry.ID,
        user_id: str,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        recent_events: int = 20,
    ) -> UserActivityType:
        ctx = info.context
        given = UsageFilterDraft(workspace_id=str(workspace_id), start=from_, end=to)
        activity = await ctx.analytics.user_activity(ctx.principal, given, user_id=user_id, recent=recent_events)
        return UserActivityType.from_model(activity)

    @strawberry.field(
        description="The URL that downloads the filtered events (GET with the same Authorization header), "
        "streamed as CSV (RFC 4180, header row) or JSON Lines: on the server's LLM_USAGE_PUBLIC_URL when set, "
        "else a path on this service (never built from the request's Host header)."
    )
    async def export_url(
        self, info: strawberry.Info[AnalyticsContext], filter: UsageFilter, format: ExportFormat = ExportFormat.CSV
    ) -> str:
        ctx = info.context
        given = filter.to_model()
        await ctx.analytics.export_spec(ctx.principal, given)
        base = (ctx.public_url or "").rstrip("/")
        return f"{base}/export/usage.{ExportFormat(format).extension}?{filter_query(given)}"

    @strawberry.field(description="Provider/model pairs stored without a price, most calls first: what to price.")
    async def unpriced_models(
        self, info: strawberry.Info[AnalyticsContext], filter: UsageFilter
    ) -> list[UnpricedModelType]:
        ctx = info.context
        unpriced = await ctx.analytics.unpriced_models(ctx.principal, filter.to_model())
        return [UnpricedModelType.from_model(u) for u in unpriced]
