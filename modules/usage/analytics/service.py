"""Reading usage: sums, breakdowns, groupings, time series, and the events themselves."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Collection
from contextlib import aclosing
from dataclasses import replace
from datetime import UTC, datetime

from modules.core.database import Database
from modules.core.errors import BadUserInput, NotFound
from modules.core.pagination import check_page_size, decode_time_cursor, encode_cursor
from modules.core.principal import Principal
from modules.usage.analytics.aggregates import BREAKDOWN_DIMENSIONS, UsageAggregates
from modules.usage.analytics.dimensions import GroupBy, UsageDimension
from modules.usage.analytics.grouping import GroupedUsageReader
from modules.usage.analytics.metrics import ALL_METRICS, MetricNeeds, SortMetric
from modules.usage.analytics.reading import analytic_session
from modules.usage.analytics.series import (
    DEFAULT_SPAN,
    SeriesReader,
    TimeInterval,
    TimeSeries,
    boundaries,
    zone_named,
)
from modules.usage.filter.resolve import resolve_filter
from modules.usage.records import (
    GroupedUsage,
    UnpricedModel,
    UsageBreakdown,
    UsageEvent,
    UsageEventPage,
    UsageFilterDraft,
    UsageFilterSpec,
    UserActivity,
)
from modules.usage.repository import UsageRepository
from modules.users import UserService
from modules.workspaces import WorkspaceService

MAX_EVENTS_PAGE = 500
MAX_GROUPS = 1000


class UsageAnalyticsService:
    def __init__(
        self,
        *,
        database: Database,
        export_database: Database,
        repository: UsageRepository,
        aggregates: UsageAggregates,
        grouping: GroupedUsageReader,
        time_buckets: SeriesReader,
        workspaces: WorkspaceService,
        users: UserService,
    ) -> None:
        self.users = users
        self.time_buckets = time_buckets
        self.database = database
        self.export_database = export_database
        self.repository = repository
        self.aggregates = aggregates
        self.grouping = grouping
        self.workspaces = workspaces

    async def breakdown(
        self,
        principal: Principal,
        given: UsageFilterDraft,
        *,
        compare_to_previous: bool = False,
        needs: MetricNeeds = ALL_METRICS,
        grouped_percentiles: Collection[UsageDimension] = BREAKDOWN_DIMENSIONS,
        with_groups: bool = True,
    ) -> UsageBreakdown:
        """Totals and breakdowns (without `with_groups`, the totals alone: one aggregate, the breakdowns empty);
        with `compare_to_previous`, also the totals of the period of the same length just before [from, to)
        (both are then required)."""
        spec = await resolve_filter(self.workspaces, principal, given)
        if compare_to_previous and (spec.start is None or spec.end is None):
            raise BadUserInput.of("compareTo", "needs filter.from and filter.to to know the period to compare")
        async with analytic_session(self.database) as session:
            if with_groups:
                breakdown = await self.aggregates.breakdown(
                    session, spec, needs, grouped_percentiles=grouped_percentiles
                )
            else:
                totals = await self.aggregates.totals(session, spec, needs)
                breakdown = UsageBreakdown(totals=totals, by_provider=[], by_model=[], by_task_type=[])
            if not compare_to_previous:
                return breakdown
            assert spec.start is not None and spec.end is not None
            before = replace(spec, start=spec.start - (spec.end - spec.start), end=spec.start)
            previous = await self.aggregates.totals(session, before, needs)
            return replace(breakdown, previous=previous)

    async def events_page(
        self, principal: Principal, given: UsageFilterDraft, *, first: int, after: str | None
    ) -> tuple[UsageFilterSpec, UsageEventPage]:
        """Events newest first; `after` is the cursor of the last event of the previous page."""
        check_page_size(first, maximum=MAX_EVENTS_PAGE)
        spec = await resolve_filter(self.workspaces, principal, given)
        before = decode_time_cursor(after, int)
        async with analytic_session(self.database) as session:
            events = await self.repository.page(session, spec, before=before, limit=first + 1)
        return spec, UsageEventPage(events=events[:first], has_next_page=len(events) > first)

    async def unpriced_models(self, principal: Principal, given: UsageFilterDraft) -> list[UnpricedModel]:
        spec = await resolve_filter(self.workspaces, principal, given)
        async with analytic_session(self.database) as session:
            return await self.aggregates.unpriced_models(session, spec)

    async def grouped(
        self,
        principal: Principal,
        given: UsageFilterDraft,
        *,
        dimensions: list[UsageDimension],
        tag_key: str | None,
        order_by: SortMetric,
        descending: bool,
        limit: int,
        needs: MetricNeeds = ALL_METRICS,
        with_others: bool = True,
    ) -> GroupedUsage:
        """Events grouped by up to 4 dimensions; the first `limit` groups and (unless `with_others` is off)
        the rest summed as others."""
        grouping = GroupBy.check(dimensions, tag_key)
        if not 1 <= limit <= MAX_GROUPS:
            raise BadUserInput.of("limit", f"must be between 1 and {MAX_GROUPS} (got {limit})")
        spec = await resolve_filter(self.workspaces, principal, given)
        async with analytic_session(self.database) as session:
            return await self.grouping.grouped(
                session,
                spec,
                grouping,
                order_by=order_by,
                descending=descending,
                limit=limit,
                needs=needs,
                with_others=with_others,
            )

    async def time_series(
        self,
        principal: Principal,
        given: UsageFilterDraft,
        *,
        interval: TimeInterval,
        time_zone: str,
        dimensions: list[UsageDimension],
        tag_key: str | None,
        needs: MetricNeeds = ALL_METRICS,
        totals: bool = True,
        columns_only: bool = False,
    ) -> TimeSeries:
        """Buckets aligned to `time_zone` from the one holding filter.from (default: a span that suits the
        interval before filter.to) to filter.to (default: now); empty buckets hold zeros (grouped and without
        `totals`, the buckets' own totals are not read: zeros; `columns_only`: read for the columns alone)."""
        zone = zone_named(time_zone)
        grouping = GroupBy.check(dimensions, tag_key) if dimensions else None
        spec = await resolve_filter(self.workspaces, principal, given)
        end = spec.end or datetime.now(UTC)
        start = spec.start or end - DEFAULT_SPAN[interval]
        bounds = boundaries(start, end, interval, zone)
        async with analytic_session(self.database) as session:
            spec = replace(spec, start=start, end=end)
            read = await self.time_buckets.rows(
                session, spec, bounds, grouping, needs, totals=totals, columns_only=columns_only
            )
        return TimeSeries(workspace_id=spec.workspace_id, read=read)

    async def top_users(
        self,
        principal: Principal,
        given: UsageFilterDraft,
        *,
        by: SortMetric,
        limit: int,
        needs: MetricNeeds = ALL_METRICS,
    ) -> GroupedUsage:
        """The end users who used most, by cost, calls or tokens (events without a user left out)."""
        if not 1 <= limit <= MAX_GROUPS:
            raise BadUserInput.of("limit", f"must be between 1 and {MAX_GROUPS} (got {limit})")
        spec = replace(await resolve_filter(self.workspaces, principal, given), with_user=True)
        grouping = GroupBy((UsageDimension.USER,))
        async with analytic_session(self.database) as session:
            return await self.grouping.grouped(
                session,
                spec,
                grouping,
                order_by=by,
                descending=True,
                limit=limit,
                needs=needs,
                with_others=False,  # topUsers lists users only
            )

    async def user_activity(
        self, principal: Principal, given: UsageFilterDraft, *, user_id: str, recent: int
    ) -> UserActivity:
        """One end user's usage within the filter; NOT_FOUND when the user has no event and no record."""
        check_page_size(recent, maximum=MAX_EVENTS_PAGE, field="recentEvents")
        spec = replace(await resolve_filter(self.workspaces, principal, given), user_id=user_id)
        async with analytic_session(self.database) as session:
            metrics = await self.aggregates.totals(session, spec)
            first_seen, last_seen = await self.aggregates.seen(session, spec)
            models = await self.grouping.grouped(
                session,
                spec,
                GroupBy((UsageDimension.MODEL,)),
                order_by=SortMetric.COST_USD,
                descending=True,
                limit=MAX_GROUPS,
                with_others=False,
            )
            events = await self.repository.page(session, spec, before=None, limit=recent)
        if metrics.calls == 0 and not await self.users.by_keys({(spec.workspace_id, user_id)}):
            raise NotFound(f"no user {user_id!r} in this workspace")
        return UserActivity(
            workspace_id=spec.workspace_id,
            user_id=user_id,
            metrics=metrics,
            first_seen=first_seen,
            last_seen=last_seen,
            models=models.groups,
            recent_events=events,
        )

    async def export_spec(self, principal: Principal, given: UsageFilterDraft) -> UsageFilterSpec:
        """The checked filter of an export (READ on its workspace)."""
        return await resolve_filter(self.workspaces, principal, given)

    async def export(self, spec: UsageFilterSpec, *, max_rows: int) -> AsyncGenerator[UsageEvent, None]:
        """The events of a checked filter, oldest first, streamed on the exports' own pool (memory stays flat
        whatever their number); BAD_USER_INPUT before the first when more than `max_rows` match. Closing the
        generator closes the cursor and gives the connection back."""
        async with self.export_database.session_factory() as session:
            split_at = await self.repository.occurred_at_of(session, spec, position=max_rows)
            if split_at is not None:
                first = await self.repository.occurred_at_of(session, spec, position=0)
                raise too_many_events(max_rows, split_at if split_at != first else None)
            async with aclosing(self.repository.stream(session, spec)) as events:
                async for event in events:
                    yield event

    async def count(self, spec: UsageFilterSpec) -> int:
        async with analytic_session(self.database) as session:
            return await self.aggregates.count(session, spec)


def too_many_events(max_rows: int, split_at: datetime | None) -> BadUserInput:
    """The refusal of an export over `max_rows`: a cut file would pass for the whole range, so none is sent.
    `splitAt` says where to split the range: at most `max_rows` of its events happened before it."""
    if split_at is None:  # more than max_rows events at one instant: only the other filters can narrow them
        return BadUserInput.of("to", f"more than {max_rows:,} events match at one instant: narrow the filter")
    at = split_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    error = BadUserInput.of(
        "to",
        f"more than {max_rows:,} events match, the most one export gives: narrow from/to. "
        f"Those before {at} are at most {max_rows:,}: export to={at}, then from={at}",
    )
    error.extensions["splitAt"] = at
    error.extensions["maxRows"] = max_rows
    return error


def event_cursor(event: UsageEvent) -> str:
    return encode_cursor(event.occurred_at.isoformat(), event.id)
