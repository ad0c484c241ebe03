"""Usage: track calls (validated, priced, stored idempotently, a batch whole or not at all) and sum them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.database import Database, once_more_if_disconnected
from modules.core.errors import BadUserInput, Problem
from modules.core.ids import parse_uuid
from modules.core.principal import Principal, Scope
from modules.core.transactions import with_retries
from modules.providers import PricedCost, PriceRequest, ProviderService, TokenCounts, UnpriceableUsage
from modules.usage.filter.resolve import resolve_filter
from modules.usage.ingest.validation import DEFAULT_MAX_EVENT_AGE_DAYS, MAX_BATCH_SIZE, CheckedInput, check_input
from modules.usage.records import (
    NewUsageEvent,
    RecostResult,
    TrackResult,
    UsageDraft,
    UsageEvent,
    UsageFilterDraft,
)
from modules.usage.repository import UsageRepository
from modules.usage.rollups.writer import RollupWriter
from modules.users import UserService
from modules.workspaces import Workspace, WorkspaceService

RECOST_CHUNK = 1000


class StoredEventsHook(Protocol):
    """Runs inside the transaction that stores a batch, with the events stored now (not the duplicates):
    what it writes commits or rolls back with them. Budgets and the live stream plug in here."""

    async def on_stored(self, session: AsyncSession, events: Sequence[UsageEvent]) -> None: ...


class UsageService:
    def __init__(
        self,
        *,
        database: Database,
        repository: UsageRepository,
        workspaces: WorkspaceService,
        users: UserService,
        providers: ProviderService,
        max_event_age_days: int = DEFAULT_MAX_EVENT_AGE_DAYS,
        on_tracked: Callable[..., None] | None = None,
        rollups: RollupWriter | None = None,
        publisher: StoredEventsHook | None = None,
        stored_hooks: Sequence[StoredEventsHook] = (),
    ) -> None:
        self.on_tracked = on_tracked
        self.rollups = rollups or RollupWriter()
        self.stored_hooks = [self.rollups, *([publisher] if publisher else []), *stored_hooks]
        self.max_event_age = timedelta(days=max_event_age_days)
        self.database = database
        self.repository = repository
        self.workspaces = workspaces
        self.users = users
        self.providers = providers

    async def track(self, principal: Principal, item: UsageDraft) -> TrackResult:
        return (await self._track(principal, [item], batch=False))[0]

    async def track_batch(self, principal: Principal, items: Sequence[UsageDraft]) -> list[TrackResult]:
        if len(items) > MAX_BATCH_SIZE:
            raise BadUserInput.of(
                "inputs", f"at most {MAX_BATCH_SIZE} events per batch (got {len(items)}): split the batch"
            )
        return await self._track(principal, items, batch=True)

    async def _track(self, principal: Principal, items: Sequence[UsageDraft], *, batch: bool) -> list[TrackResult]:
        if not items:
            return []
        now = datetime.now(UTC)
        problems: list[Problem] = []
        checked: list[CheckedInput] = []
        for index, item in enumerate(items):
            found, parts = check_input(item, index if batch else None, now, self.max_event_age)
            problems.extend(found)
            checked.append(parts)
        references = {item.workspace_id for item in items}
        workspaces = await self.workspaces.resolve(references)
        self.workspaces.check_access(principal, Scope.INGEST, references, workspaces)
        instance_ids = await self._check_references(items, checked, workspaces, problems, batch=batch)
        if problems:
            self._observe(inserted=0, duplicates=0, rejected=len(items))
            raise BadUserInput(sorted(problems, key=lambda p: p.index or 0))
        request_ids = [item.request_id or str(uuid4()) for item in items]  # the same ids if the work is redone
        events: list[NewUsageEvent] = []

        async def store(session: AsyncSession) -> tuple[list[UsageEvent], list[UsageEvent]]:
            events[:] = await self._priced_events(
                session, items, checked, workspaces, instance_ids, request_ids, now, batch=batch
            )
            stored = await self.repository.insert_many(session, events)
            stored_now = {(e.workspace_id, e.request_id) for e in stored}
            earlier = [
                (e.workspace_id, e.request_id) for e in events if (e.workspace_id, e.request_id) not in stored_now
            ]
            found_earlier = await self.repository.find_by_request_ids(session, earlier)
            await self.users.register_seen(session, {(e.workspace_id, e.user_id) for e in stored if e.user_id})
            if stored:
                for hook in self.stored_hooks:
                    await hook.on_stored(session, stored)
            return stored, found_earlier

        stored, found_earlier = await once_more_if_disconnected(lambda: with_retries(self.database, store))
        stored_now = {(e.workspace_id, e.request_id) for e in stored}
        by_key = {(e.workspace_id, e.request_id): e for e in [*stored, *found_earlier]}
        results, claimed = [], set()
        for event in events:
            key = (event.workspace_id, event.request_id)
            results.append(TrackResult(event=by_key[key], duplicate=key not in stored_now or key in claimed))
            claimed.add(key)
        duplicates = sum(r.duplicate for r in results)
        self._observe(inserted=len(results) - duplicates, duplicates=duplicates, rejected=0)
        return results

    def _observe(self, **counts: int) -> None:
        if self.on_tracked is not None:
            self.on_tracked(**counts)

    async def _check_references(
        self,
        items: Sequence[UsageDraft],
        checked: Sequence[CheckedInput],
        workspaces: dict[str, Workspace],
        problems: list[Problem],
        *,
        batch: bool,
    ) -> list[UUID | None]:
        """Workspaces must exist; a provider instance must be one of the event's workspace and provider."""
        instance_ids = [parse_uuid(i.provider_instance_id) if i.provider_instance_id else None for i in items]
        instances = await self.providers.instances_by_id({i for i in instance_ids if i})
        for index, (item, parts, instance_id) in enumerate(zip(items, checked, instance_ids, strict=True)):
            at = index if batch else None
            workspace = workspaces.get(item.workspace_id)
            if workspace is None:
                problems.append(Problem("workspaceId", f"no workspace {item.workspace_id!r}", at))
            if item.provider_instance_id is None:
                continue
            instance = instances.get(instance_id) if instance_id else None
            if instance is None or workspace is None or instance.workspace_id != workspace.id:
                problems.append(Problem("providerInstanceId", "no such provider instance in this workspace", at))
            elif instance.provider != parts.provider:
                problems.append(
                    Problem(
                        "providerInstanceId",
                        f"is an instance of {instance.provider!r}, not {parts.provider!r}",
                        at,
                    )
                )
        return instance_ids

    async def _priced_events(
        self,
        session: AsyncSession,
        items: Sequence[UsageDraft],
        checked: Sequence[CheckedInput],
        workspaces: dict[str, Workspace],
        instance_ids: Sequence[UUID | None],
        request_ids: Sequence[str],
        now: datetime,
        *,
        batch: bool,
    ) -> list[NewUsageEvent]:
        """Price what the caller did not price itself (its own figure wins: CALLER) and build the events; the
        overrides are read in the storing transaction. Counts genai-prices cannot price (a part above its whole,
        in kinds only it checks) refuse the input."""
        occurred = [item.occurred_at or now for item in items]
        to_price = [i for i, parts in enumerate(checked) if parts.cost_usd is None]
        requests = [
            PriceRequest(
                workspace_id=workspaces[items[i].workspace_id].id,
                provider=checked[i].provider,
                model=checked[i].model,
                provider_instance_id=instance_ids[i],
                occurred_at=occurred[i],
                tokens=checked[i].tokens,
            )
            for i in to_price
        ]
        try:
            priced = await self.providers.price_many(requests, session)
        except UnpriceableUsage as refused:
            self._observe(inserted=0, duplicates=0, rejected=len(items))
            raise BadUserInput(
                [
                    Problem(counts_field(items[to_price[i]]), reason, to_price[i] if batch else None)
                    for i, reason in sorted(refused.reasons.items())
                ]
            ) from None
        costs: dict[int, PricedCost] = dict(zip(to_price, priced, strict=True))
        events = []
        for index, (item, parts) in enumerate(zip(items, checked, strict=True)):
            cost = costs[index] if index in costs else PricedCost.caller(parts.cost_usd)
            events.append(
                NewUsageEvent(
                    workspace_id=workspaces[item.workspace_id].id,
                    request_id=request_ids[index],
                    occurred_at=occurred[index],
                    received_at=now,
                    provider=parts.provider,
                    model=parts.model,
                    provider_instance_id=instance_ids[index],
                    task_type=item.task_type,
                    user_id=item.user_id,
                    session_id=item.session_id,
                    prompt_tokens=parts.tokens.prompt,
                    completion_tokens=parts.tokens.completion,
                    total_tokens=parts.total_tokens,
                    cached_prompt_tokens=parts.tokens.cached_prompt,
                    cache_write_tokens=parts.tokens.cache_write,
                    reasoning_tokens=parts.tokens.reasoning,
                    input_cost_usd=cost.input_cost_usd,
                    output_cost_usd=cost.output_cost_usd,
                    cost_usd=cost.cost_usd,
                    cost_source=cost.source,
                    duration_ms=item.duration_ms,
                    time_to_first_token_ms=item.time_to_first_token_ms,
                    status=parts.status,
                    error_type=item.error_type,
                    error_message=item.error_message,
                    retry_count=item.retry_count or 0,
                    streamed=item.streamed,
                    tags=parts.tags,
                    audio_tokens=parts.audio_tokens,
                    usage_kinds=dict(parts.tokens.extra),
                    catalogue_model=self.providers.catalogue_model(parts.provider, parts.model),
                )
            )
        return events

    async def recost(self, principal: Principal, given: UsageFilterDraft) -> RecostResult:
        """Price the filtered events again with today's overrides and catalogue, at each event's own time, and
        name their catalogue model as today's catalogue does. A caller's own figure is never touched. One
        transaction; rows are locked while re-priced."""
        spec = await resolve_filter(self.workspaces, principal, given, Scope.ADMIN)
        examined, changed, before, after, last_id = 0, 0, Decimal(0), Decimal(0), 0
        async with self.database.session_factory.begin() as session:
            while events := await self.repository.priced_by_us(session, spec, after_id=last_id, limit=RECOST_CHUNK):
                last_id = events[-1].id
                try:
                    costs = await self.providers.price_many([price_request(e) for e in events])
                except UnpriceableUsage as refused:  # counts a newer catalogue cannot price: left as they are
                    costs = [event_cost(events[i]) if i in refused.reasons else c for i, c in enumerate(refused.costs)]
                updates = {e.id: c for e, c in zip(events, costs, strict=True) if not same_cost(e, c)}
                await self.rollups.remove(session, list(updates))  # out at the old cost, back in at the new
                await self.repository.set_costs(session, updates)
                await self.rollups.add(session, list(updates))
                # the catalogue may know a model it did not when the event came (or name it otherwise now)
                renamed = {
                    e.id: now
                    for e in events
                    if (now := self.providers.catalogue_model(e.provider, e.model)) != e.catalogue_model
                }
                await self.repository.set_catalogue_models(session, renamed)
                examined += len(events)
                changed += len(updates)
                before += sum((e.cost_usd or Decimal(0) for e in events), Decimal(0))
                after += sum((c.cost_usd or Decimal(0) for c in costs), Decimal(0))
        return RecostResult(examined=examined, changed=changed, cost_before_usd=before, cost_after_usd=after)


def counts_field(item: UsageDraft) -> str:
    """The input field an input's counts came from, to name when they cannot be priced."""
    if item.raw_usage is not None:
        return "rawUsage"
    return "usageKinds" if item.usage_kinds is not None else "promptTokens"


def price_request(event: UsageEvent) -> PriceRequest:
    return PriceRequest(
        workspace_id=event.workspace_id,
        provider=event.provider,
        model=event.model,
        provider_instance_id=event.provider_instance_id,
        occurred_at=event.occurred_at,
        tokens=TokenCounts(
            prompt=event.prompt_tokens,
            completion=event.completion_tokens,
            cached_prompt=event.cached_prompt_tokens,
            cache_write=event.cache_write_tokens,
            reasoning=event.reasoning_tokens,
            extra=tuple(sorted(event.usage_kinds.items())),
        ),
    )


def event_cost(event: UsageEvent) -> PricedCost:
    """The cost an event was stored with."""
    return PricedCost(event.input_cost_usd, event.output_cost_usd, event.cost_usd, event.cost_source)


def same_cost(event: UsageEvent, cost: PricedCost) -> bool:
    return (event.input_cost_usd, event.output_cost_usd, event.cost_usd, event.cost_source) == (
        cost.input_cost_usd,
        cost.output_cost_usd,
        cost.cost_usd,
        cost.source,
    )
