"""Counts stored events against budgets inside the transaction that stores them, and records the alerts
(and their webhook deliveries) of every threshold a batch pushes the spend across."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from modules.budgets.periods import period_bounds
from modules.budgets.records import Budget, BudgetAlert
from modules.budgets.repository import BudgetRepository
from modules.budgets.scope import event_fields, matches, spend_filter
from modules.budgets.webhooks import alert_body
from modules.core.cache import NotifiedCache, cached_many
from modules.core.notifications import publish
from modules.usage import UsageAggregates, UsageEvent

ALERTS_CHANNEL = "llm_usage_alerts"
BUDGETS_CHANNEL = "llm_usage_budgets_changed"  # a budget was created, changed or deleted: cached ones are forgotten


def crossed(budget: Budget, before: Decimal, after: Decimal) -> list[int]:
    """The thresholds (percent of the limit) that lie in (before, after]."""
    return [t for t in budget.thresholds if before < budget.limit_usd * t / 100 <= after]


class BudgetAccounting:
    def __init__(
        self,
        *,
        repository: BudgetRepository,
        aggregates: UsageAggregates,
        cache: NotifiedCache[UUID, list[Budget]] | None = None,
    ) -> None:
        self.repository = repository
        self.aggregates = aggregates
        self.cache = cache  # each workspace's budgets, until a change is announced; None: read every time

    async def on_stored(self, session: AsyncSession, events: Sequence[UsageEvent]) -> None:
        """Periods are updated in a fixed order (budget id, period start), so concurrent batches queue on
        the same row locks instead of deadlocking; each sees the spend the one before it left."""
        priced = [e for e in events if e.cost_usd]
        if not priced:
            return
        budgets = await self._budgets_of(session, {e.workspace_id for e in priced})
        if not budgets:
            return
        deltas: dict[tuple[UUID, datetime], Decimal] = defaultdict(Decimal)
        ends: dict[tuple[UUID, datetime], datetime] = {}
        for event in priced:
            fields, tags = event_fields(event), event.tags or {}
            for budget in budgets:
                if budget.workspace_id == event.workspace_id and matches(budget, fields, tags):
                    start, end = period_bounds(budget.period, budget.time_zone, event.occurred_at)
                    deltas[(budget.id, start)] += event.cost_usd or Decimal(0)
                    ends[(budget.id, start)] = end
        by_id = {b.id: b for b in budgets}
        wanted: list[dict[str, Any]] = []
        for key in sorted(deltas, key=lambda k: (str(k[0]), k[1])):
            budget, (_, start), delta = by_id[key[0]], key, deltas[key]
            after = await self.repository.add_spend(
                session, budget=budget, period_start=start, delta=delta, counted=None
            )
            if after is None:
                counted = await self.aggregates.cost(session, spend_filter(budget, start, ends[key]))
                after = await self.repository.add_spend(
                    session, budget=budget, period_start=start, delta=delta, counted=counted
                )
            assert after is not None
            if budget.paused:
                continue
            for threshold in crossed(budget, after - delta, after):
                wanted.append(
                    {
                        "workspace_id": budget.workspace_id,
                        "budget_id": budget.id,
                        "period_start": start,
                        "threshold": threshold,
                        "spent_usd": after,
                        "limit_usd": budget.limit_usd,
                    }
                )
        alerts = await self.repository.insert_alerts(session, wanted)
        if alerts:
            await self._deliver(session, alerts, by_id, ends)

    async def _budgets_of(self, session: AsyncSession, workspace_ids: set[UUID]) -> list[Budget]:
        """The workspaces' budgets: cached ones, and the others read in one query (in the storing transaction)."""

        async def read(missing: set[UUID]) -> dict[UUID, list[Budget]]:
            budgets = await self.repository.of_workspaces(session, missing)
            return {w: [b for b in budgets if b.workspace_id == w] for w in missing}

        found = await cached_many(self.cache, workspace_ids, read)
        return [budget for budgets in found.values() for budget in budgets]

    async def _deliver(
        self,
        session: AsyncSession,
        alerts: Sequence[BudgetAlert],
        budgets: dict[UUID, Budget],
        ends: dict[tuple[UUID, datetime], datetime],
    ) -> None:
        """The webhook outbox rows and the notification, committed (or not) with the events."""
        deliveries: list[dict[str, Any]] = []
        for alert in alerts:
            budget = budgets[alert.budget_id]
            body = alert_body(budget, alert, ends[(budget.id, alert.period_start)])
            deliveries.extend(
                {
                    "workspace_id": budget.workspace_id,
                    "budget_id": budget.id,
                    "alert_id": alert.id,
                    "url": url,
                    "body": body,
                }
                for url in budget.webhook_urls
            )
        await self.repository.insert_deliveries(session, deliveries)
        await publish(session, ALERTS_CHANNEL, json.dumps({"alerts": [a.id for a in alerts]}))
