"""Budgets: create, change, pause and delete them and rotate their webhook secret (ADMIN); see their spend
in the current period, their alerts and webhook deliveries (READ); and a cheap pre-flight check before an
expensive call."""

from __future__ import annotations

import asyncio
import builtins
import json
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from modules.budgets.accounting import ALERTS_CHANNEL, BUDGETS_CHANNEL
from modules.budgets.periods import period_bounds
from modules.budgets.records import (
    Budget,
    BudgetAlert,
    BudgetFields,
    BudgetScope,
    BudgetSpend,
    WebhookAttempt,
    WebhookDelivery,
)
from modules.budgets.repository import BudgetRepository
from modules.budgets.scope import matches, spend_filter
from modules.budgets.targets import WebhookTargets
from modules.budgets.validation import (
    MAX_BUDGETS_PER_WORKSPACE,
    MAX_WEBHOOKS,
    BudgetDraft,
    check_budget,
    merged,
)
from modules.budgets.webhooks import new_secret
from modules.core.cache import NotifiedCache, announce_change
from modules.core.database import Database
from modules.core.errors import BadUserInput, Conflict, Forbidden, NotFound, Problem
from modules.core.ids import parse_uuid
from modules.core.notifications import Notifications
from modules.core.principal import Principal, Scope
from modules.providers import ProviderService
from modules.usage import UsageAggregates
from modules.workspaces import WorkspaceService


@dataclass(frozen=True)
class BudgetWithSecret:
    """A budget and its webhook secret, which is shown only when it is made (creation or rotation)."""

    budget: Budget
    webhook_secret: str


@dataclass(frozen=True)
class BudgetCheck:
    """The budgets a call would count against, tightest (least remaining) first."""

    matching: list[BudgetSpend]

    @property
    def tightest(self) -> BudgetSpend | None:
        return self.matching[0] if self.matching else None

    @property
    def exceeded(self) -> bool:
        return any(spend.exceeded for spend in self.matching)


@dataclass(frozen=True)
class DeliveryLog:
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


def fields_of(budget: Budget) -> BudgetFields:
    return BudgetFields(
        name=budget.name,
        scope=budget.scope,
        scope_value=budget.scope_value,
        scope_tag_key=budget.scope_tag_key,
        period=budget.period,
        time_zone=budget.time_zone,
        limit_usd=budget.limit_usd,
        thresholds=budget.thresholds,
        webhook_urls=budget.webhook_urls,
        paused=budget.paused,
    )


class BudgetService:
    def __init__(
        self,
        *,
        database: Database,
        repository: BudgetRepository,
        aggregates: UsageAggregates,
        workspaces: WorkspaceService,
        providers: ProviderService,
        notifications: Notifications,
        targets: WebhookTargets,
        cache: NotifiedCache[UUID, builtins.list[Budget]] | None = None,
    ) -> None:
        self.cache = cache  # the accounting's cache of budgets: forgotten here at once after a change
        self.notifications = notifications
        self.targets = targets
        self.database = database
        self.repository = repository
        self.aggregates = aggregates
        self.workspaces = workspaces
        self.providers = providers

    async def create(self, principal: Principal, *, workspace_ref: str, draft: BudgetDraft) -> BudgetWithSecret:
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.ADMIN, field="workspaceId")
        fields = check_budget(draft, await self._url_problems(draft.webhook_urls))
        await self._check_instance(workspace.id, fields)
        secret = new_secret()
        async with self.database.session_factory.begin() as session:
            if await self.repository.count_locked(session, workspace.id) >= MAX_BUDGETS_PER_WORKSPACE:
                raise Conflict(
                    f"this workspace already has {MAX_BUDGETS_PER_WORKSPACE} budgets, the most it may have: "
                    "delete one first",
                    field="workspaceId",
                )
            budget = await self.repository.create(session, workspace_id=workspace.id, fields=fields, secret=secret)
            await announce_change(session, BUDGETS_CHANNEL)
        self._forget()
        if budget is None:
            raise name_taken(fields.name)
        return BudgetWithSecret(budget=budget, webhook_secret=secret)

    async def update(self, principal: Principal, budget_id: str, draft: BudgetDraft) -> Budget:
        """Webhook URLs are checked when given; the stored ones are checked again at each delivery."""
        budget = await self._get(principal, budget_id, Scope.ADMIN)
        fields = check_budget(merged(draft, fields_of(budget)), await self._url_problems(draft.webhook_urls))
        await self._check_instance(budget.workspace_id, fields)
        async with self.database.session_factory.begin() as session:
            updated = await self.repository.update(session, budget.id, fields)
            await announce_change(session, BUDGETS_CHANNEL)
        self._forget()
        if updated is None:
            raise name_taken(fields.name)
        return updated

    async def rotate_secret(self, principal: Principal, budget_id: str) -> BudgetWithSecret:
        """A new webhook secret, returned this once; deliveries are signed with it from their next attempt."""
        budget = await self._get(principal, budget_id, Scope.ADMIN)
        secret = new_secret()
        async with self.database.session_factory.begin() as session:
            rotated = await self.repository.set_secret(session, budget.id, secret)
            await announce_change(session, BUDGETS_CHANNEL)
        self._forget()
        return BudgetWithSecret(budget=rotated, webhook_secret=secret)

    async def delete(self, principal: Principal, budget_id: str) -> Budget:
        """Its periods, alerts and pending deliveries go with it."""
        budget = await self._get(principal, budget_id, Scope.ADMIN)
        async with self.database.session_factory.begin() as session:
            await self.repository.delete(session, budget.id)
            await announce_change(session, BUDGETS_CHANNEL)
        self._forget()
        return budget

    async def get(self, principal: Principal, budget_id: str) -> BudgetSpend:
        budget = await self._get(principal, budget_id, Scope.READ)
        return (await self.spend_of([budget]))[0]

    # In the class body `list` is this method from here on: the annotations below say builtins.list.
    async def list(self, principal: Principal, *, workspace_ref: str) -> list[BudgetSpend]:
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.READ, field="workspaceId")
        async with self.database.session_factory() as session:
            budgets = await self.repository.of_workspaces(session, [workspace.id])
        return await self.spend_of(budgets)

    async def status(
        self, principal: Principal, *, workspace_ref: str, call: dict[BudgetScope, str | None], tags: dict[str, str]
    ) -> BudgetCheck:
        """For a caller (INGEST or READ) about to make a call: active budgets it would count against."""
        scope = Scope.INGEST if principal.allows(Scope.INGEST) else Scope.READ
        workspace = await self.workspaces.authorize(principal, workspace_ref, scope, field="workspaceId")
        async with self.database.session_factory() as session:
            budgets = await self.repository.of_workspaces(session, [workspace.id])
        matching = [b for b in budgets if not b.paused and matches(b, call, tags)]
        spends = await self.spend_of(matching)
        return BudgetCheck(matching=sorted(spends, key=lambda s: (s.remaining_usd, s.budget.name)))

    async def spend_of(self, budgets: Sequence[Budget], at: datetime | None = None) -> builtins.list[BudgetSpend]:
        """Each budget's spend in the period holding `at` (now): the counted spend, or for a period no
        stored event has touched yet, the events table's sum (events from before the budget count too)."""
        at = at or datetime.now(UTC)
        bounds = {b.id: period_bounds(b.period, b.time_zone, at) for b in budgets}
        async with self.database.session_factory() as session:
            counted = await self.repository.spent(session, {(b.id, bounds[b.id][0]) for b in budgets})
            spends = []
            for budget in budgets:
                start, end = bounds[budget.id]
                spent = counted.get((budget.id, start))
                if spent is None:
                    spent = await self.aggregates.cost(session, spend_filter(budget, start, end))
                spends.append(BudgetSpend(budget=budget, period_start=start, period_end=end, spent_usd=spent, at=at))
        return spends

    async def alerts_of(self, budget_ids: Sequence[UUID]) -> builtins.list[builtins.list[BudgetAlert]]:
        """For a DataLoader: the alerts of each budget, newest first (callers were authorized for them)."""
        async with self.database.session_factory() as session:
            alerts = await self.repository.alerts(session, budget_ids)
        return [[a for a in alerts if a.budget_id == budget_id] for budget_id in budget_ids]

    async def alerts_by_id(self, ids: Collection[int]) -> builtins.list[BudgetAlert]:
        async with self.database.session_factory() as session:
            return await self.repository.alerts_by_id(session, ids)

    async def watch_alerts(self, principal: Principal, *, workspace_ref: str) -> AsyncIterator[BudgetAlert]:
        """Every alert of the workspace recorded from now on, by any server process (READ)."""
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.READ, field="workspaceId")
        async with self.notifications.subscribe(ALERTS_CHANNEL) as queue:
            while True:
                ids = json.loads(await queue.get())["alerts"]
                for alert in await self.alerts_by_id(ids):
                    if alert.workspace_id == workspace.id:
                        yield alert

    async def deliveries(self, principal: Principal, budget_id: str) -> builtins.list[DeliveryLog]:
        budget = await self._get(principal, budget_id, Scope.READ)
        async with self.database.session_factory() as session:
            deliveries = await self.repository.deliveries(session, budget.id)
            attempts = await self.repository.attempts(session, [d.id for d in deliveries])
        return [DeliveryLog(delivery=d, attempts=attempts[d.id]) for d in deliveries]

    def _forget(self) -> None:
        """After a committed change: this process's cached budgets at once (the others' on its NOTIFY)."""
        if self.cache is not None:
            self.cache.clear()

    async def _get(self, principal: Principal, budget_id: str, scope: Scope) -> Budget:
        """A workspace key gets the same FORBIDDEN for another workspace's budget and for a missing one."""
        principal.require_authenticated()
        parsed = parse_uuid(budget_id)
        async with self.database.session_factory() as session:
            budget = await self.repository.get(session, parsed) if parsed else None
        if budget is None or (principal.workspace_id is not None and budget.workspace_id != principal.workspace_id):
            if principal.workspace_id is not None:
                raise Forbidden("this key does not give access to that workspace")
            principal.require(scope)
            raise NotFound(f"no budget {budget_id!r}")
        principal.require(scope, budget.workspace_id)
        return budget

    async def _url_problems(self, urls: Sequence[str] | None) -> builtins.list[Problem]:
        """The address check of the given webhook URLs (DNS included), each problem naming its URL's index;
        none is resolved when there are more than a budget may have (that problem is reported alone)."""
        if not urls or len(urls) > MAX_WEBHOOKS:
            return []
        reasons = await asyncio.gather(*(self.targets.problem(url) for url in urls))
        return [Problem(f"webhookUrls[{i}]", reason) for i, reason in enumerate(reasons) if reason is not None]

    async def _check_instance(self, workspace_id: UUID, fields: BudgetFields) -> None:
        if fields.scope is not BudgetScope.PROVIDER_INSTANCE:
            return
        instance_id = parse_uuid(fields.scope_value or "")
        instances = await self.providers.instances_by_id({instance_id} if instance_id else set())
        instance = instances.get(instance_id) if instance_id else None
        if instance is None or instance.workspace_id != workspace_id:
            raise BadUserInput.of("scopeValue", "no such provider instance in this workspace")


def name_taken(name: str) -> Conflict:
    return Conflict(f"this workspace already has a budget named {name!r}", field="name")
