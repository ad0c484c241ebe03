"""Which events a budget counts. The one rule: every budget whose scope matches an event counts it, so a
user's budget and its workspace's budget both see the same call."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from modules.budgets.records import Budget, BudgetScope
from modules.usage import TagCondition, UsageEvent, UsageFilterSpec


def matches(budget: Budget, call: Mapping[BudgetScope, str | None], tags: Mapping[str, str]) -> bool:
    """Whether a call, described by the values of the fields budgets look at and its tags, falls in the
    budget's scope (the same rule for stored events and for a call about to be made)."""
    if budget.scope is BudgetScope.WORKSPACE:
        return True
    if budget.scope is BudgetScope.TAG:
        return tags.get(budget.scope_tag_key or "") == budget.scope_value
    return call.get(budget.scope) == budget.scope_value


def event_fields(event: UsageEvent) -> dict[BudgetScope, str | None]:
    return {
        BudgetScope.USER: event.user_id,
        BudgetScope.PROVIDER: event.provider,
        BudgetScope.PROVIDER_INSTANCE: str(event.provider_instance_id) if event.provider_instance_id else None,
        BudgetScope.MODEL: event.model,
        BudgetScope.TASK_TYPE: event.task_type,
    }


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
