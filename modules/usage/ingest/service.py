"""Usage: track calls (validated and authorised here, then priced and stored idempotently by storing.py: a batch
whole or not at all, a single call with the others arriving with it) and price stored ones again."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from modules.core.database import Database
from modules.core.errors import BadUserInput, Problem
from modules.core.ids import parse_uuid
from modules.core.principal import Principal, Scope
from modules.providers import PricedCost, PriceRequest, ProviderService, TokenCounts, UnpriceableUsage
from modules.usage.filter.resolve import resolve_filter
from modules.usage.ingest.group_commit import GroupCommit
from modules.usage.ingest.storing import AcceptedInput, EventWriter, StoredContentHook, StoredEventsHook
from modules.usage.ingest.validation import DEFAULT_MAX_EVENT_AGE_DAYS, MAX_BATCH_SIZE, CheckedInput, check_input
from modules.usage.records import (
    RecostResult,
    TrackResult,
    UsageDraft,
    UsageEvent,
    UsageFilterDraft,
)
from modules.usage.repository import UsageRepository
from modules.usage.rollups.writer import RollupWriter, time_span
from modules.users import UserService
from modules.workspaces import Workspace, WorkspaceService

RECOST_CHUNK = 1000
__all__ = ["StoredEventsHook", "UsageService"]  # StoredEventsHook is declared in storing.py


class UsageService:
    def __init__(
        self,
        *,
        database: Database,
        repository: UsageRepository,
        workspaces: WorkspaceService,
        users: UserService,
        providers: ProviderService,
        group_commit: GroupCommit,
        max_event_age_days: int = DEFAULT_MAX_EVENT_AGE_DAYS,
        on_tracked: Callable[..., None] | None = None,
        rollups: RollupWriter | None = None,
        publisher: StoredEventsHook | None = None,
        stored_hooks: Sequence[StoredEventsHook] = (),
        content: StoredContentHook | None = None,
    ) -> None:
        self.on_tracked = on_tracked
        self.rollups = rollups or RollupWriter()
        # the live stream's NOTIFY first (it locks nothing until the commit), then the rollups, whose row locks every
        # concurrent batch waits for until this one commits, then the budgets (they read the rollups)
        self.stored_hooks = [*([publisher] if publisher else []), self.rollups, *stored_hooks]
        self.max_event_age = timedelta(days=max_event_age_days)
        self.database = database
        self.repository = repository
        self.workspaces = workspaces
        self.providers = providers
        self.group_commit = group_commit  # one per process (the container's singleton), shared by its services
        self.writer = EventWriter(
            database=database,
            repository=repository,
            users=users,
            providers=providers,
            hooks=tuple(self.stored_hooks),
            content=content,
        )

    async def track(self, principal: Principal, item: UsageDraft) -> TrackResult:
        """One call, stored with the single calls that arrive with it (group_commit.py), answered on its own."""
        [accepted] = await self._accept(principal, [item], batch=False)
        try:
            result = await self.group_commit.submit(self.writer, accepted)
        except BadUserInput:
            self._observe(inserted=0, duplicates=0, rejected=1)
            raise
        self._observe(inserted=int(not result.duplicate), duplicates=int(result.duplicate), rejected=0)
        return result

    async def track_batch(self, principal: Principal, items: Sequence[UsageDraft]) -> list[TrackResult]:
        if len(items) > MAX_BATCH_SIZE:
            raise BadUserInput.of(
                "inputs", f"at most {MAX_BATCH_SIZE} events per batch (got {len(items)}): split the batch"
            )
        if not items:
            return []
        accepted = await self._accept(principal, items, batch=True)
        try:
            results = await self.writer.store(accepted)
        except BadUserInput:
            self._observe(inserted=0, duplicates=0, rejected=len(items))
            raise
        duplicates = sum(r.duplicate for r in results)
        self._observe(inserted=len(results) - duplicates, duplicates=duplicates, rejected=0)
        return results

    async def _accept(self, principal: Principal, items: Sequence[UsageDraft], *, batch: bool) -> list[AcceptedInput]:
        """The inputs checked, authorised and given their request ids, or BAD_USER_INPUT naming every problem
        (with its index in a batch)."""
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
        return [
            AcceptedInput(
                item=item,
                checked=parts,
                workspace_id=workspaces[item.workspace_id].id,
                provider_instance_id=instance_id,
                request_id=item.request_id or str(uuid4()),  # fixed now: the same id if the work is redone
                received_at=now,
                index=index if batch else None,
            )
            for index, (item, parts, instance_id) in enumerate(zip(items, checked, instance_ids, strict=True))
        ]

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
        wanted = {i for i in instance_ids if i}
        instances = await self.providers.instances_by_id(wanted) if wanted else {}
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
                span = time_span(events)
                await self.rollups.remove(session, list(updates), within=span)  # out at the old cost, in at the new
                await self.repository.set_costs(session, updates, within=span)
                await self.rollups.add(session, list(updates), within=span)
                # the catalogue may know a model it did not when the event came (or name it otherwise now)
                renamed = {
                    e.id: now
                    for e in events
                    if (now := self.providers.catalogue_model(e.provider, e.model)) != e.catalogue_model
                }
                await self.repository.set_catalogue_models(session, renamed, within=span)
                examined += len(events)
                changed += len(updates)
                before += sum((e.cost_usd or Decimal(0) for e in events), Decimal(0))
                after += sum((c.cost_usd or Decimal(0) for c in costs), Decimal(0))
        return RecostResult(examined=examined, changed=changed, cost_before_usd=before, cost_after_usd=after)


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
