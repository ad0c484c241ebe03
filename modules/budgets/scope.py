"""Which events a budget counts. The one rule: every budget whose scope matches an event counts it, so a
user's budget and its workspace's budget both see the same call."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from modules.budgets.records import Budget, BudgetScope
from modules.usage.records import TagCondition, UsageEvent, UsageFilterSpec


def scope_field(budget: Budget, event: UsageEvent) -> str | None:
    """The event's value of the field the budget's scope looks at."""
    match budget.scope:
        case BudgetScope.USER:
            return event.user_id
        case BudgetScope.PROVIDER:
            return event.provider
        case BudgetScope.PROVIDER_INSTANCE:
            return str(event.provider_instance_id) if event.provider_instance_id else None
        case BudgetScope.MODEL:
            return event.model
        case BudgetScope.TASK_TYPE:
            return event.task_type
        case BudgetScope.TAG:
            value = (event.tags or {}).get(budget.scope_tag_key or "")
            return None if value is None else str(value)
    return None


def counts(budget: Budget, event: UsageEvent) -> bool:
    if budget.workspace_id != event.workspace_id:
        return False
    return budget.scope is BudgetScope.WORKSPACE or scope_field(budget, event) == budget.scope_value


def spend_filter(budget: Budget, start: datetime, end: datetime) -> UsageFilterSpec:
    """The same scope as a usage filter, to sum what the base table holds for a period."""
    value = budget.scope_value
    match budget.scope:
        case BudgetScope.USER:
            return UsageFilterSpec(workspace_id=budget.workspace_id, user_id=value, start=start, end=end)
        case BudgetScope.PROVIDER:
            return UsageFilterSpec(workspace_id=budget.workspace_id, provider=value, start=start, end=end)
        case BudgetScope.PROVIDER_INSTANCE:
            instance = UUID(value) if value else None
            return UsageFilterSpec(
                workspace_id=budget.workspace_id, provider_instance_id=instance, start=start, end=end
            )
        case BudgetScope.MODEL:
            return UsageFilterSpec(workspace_id=budget.workspace_id, model=value, start=start, end=end)
        case BudgetScope.TASK_TYPE:
            return UsageFilterSpec(workspace_id=budget.workspace_id, task_type=value, start=start, end=end)
        case BudgetScope.TAG:
            tag = TagCondition(key=budget.scope_tag_key or "", value=value)
            return UsageFilterSpec(workspace_id=budget.workspace_id, tags=(tag,), start=start, end=end)
    return UsageFilterSpec(workspace_id=budget.workspace_id, start=start, end=end)
