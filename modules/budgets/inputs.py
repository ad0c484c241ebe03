"""GraphQL inputs of the budgets module; each turns into the plain BudgetDraft the service validates."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from modules.budgets.types import BudgetPeriod, BudgetScope  # from types: registered as GraphQL enums there
from modules.budgets.validation import BudgetDraft


@strawberry.input(
    description="A budget. Defaults: scope WORKSPACE, period MONTHLY, timeZone UTC, thresholds [50, 80, 100]."
)
class CreateBudgetInput:
    workspace_id: strawberry.ID = strawberry.field(description="The workspace's id or slug.")
    name: str
    limit_usd: Decimal
    scope: BudgetScope | None = None
    scope_value: str | None = None
    scope_tag_key: str | None = None
    period: BudgetPeriod | None = None
    time_zone: str | None = strawberry.field(default=None, description="IANA name, e.g. Europe/Paris.")
    thresholds: list[int] | None = strawberry.field(default=None, description="Percent of the limit.")
    webhook_urls: list[str] | None = None
    paused: bool | None = None

    def to_model(self) -> BudgetDraft:
        return draft_from(self)


@strawberry.input(description="Changes to a budget; fields left out stay as they are (give scope to change it).")
class UpdateBudgetInput:
    name: str | None = None
    limit_usd: Decimal | None = None
    scope: BudgetScope | None = None
    scope_value: str | None = None
    scope_tag_key: str | None = None
    period: BudgetPeriod | None = None
    time_zone: str | None = None
    thresholds: list[int] | None = None
    webhook_urls: list[str] | None = None
    paused: bool | None = strawberry.field(default=None, description="true: pause (no alerts); false: resume.")

    def to_model(self) -> BudgetDraft:
        return draft_from(self)


def draft_from(given: CreateBudgetInput | UpdateBudgetInput) -> BudgetDraft:
    return BudgetDraft(
        name=given.name,
        scope=given.scope,
        scope_value=given.scope_value,
        scope_tag_key=given.scope_tag_key,
        period=given.period,
        time_zone=given.time_zone,
        limit_usd=given.limit_usd,
        thresholds=tuple(given.thresholds) if given.thresholds is not None else None,
        webhook_urls=tuple(given.webhook_urls) if given.webhook_urls is not None else None,
        paused=given.paused,
    )
