"""Budget queries, mutations and the alert subscription: thin, they call BudgetService."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from modules.budgets.inputs import CreateBudgetInput, UpdateBudgetInput
from modules.budgets.records import BudgetScope
from modules.budgets.types import (
    BudgetAlertType,
    BudgetsContext,
    BudgetStatusType,
    BudgetType,
    CreateBudgetPayload,
    RotateBudgetSecretPayload,
    WebhookDeliveryType,
)
from modules.core.principal import Scope
from modules.providers import normalize_provider
from modules.usage import TagFilter


@strawberry.type
class BudgetQuery:
    @strawberry.field(description="The workspace's budgets, each in its current period.")
    async def budgets(self, info: strawberry.Info[BudgetsContext], workspace_id: strawberry.ID) -> list[BudgetType]:
        ctx = info.context
        spends = await ctx.budgets.list(ctx.principal, workspace_ref=str(workspace_id))
        return [BudgetType.from_model(s) for s in spends]

    @strawberry.field(description="One budget in its current period, with its alert history.")
    async def budget(self, info: strawberry.Info[BudgetsContext], id: strawberry.ID) -> BudgetType:
        ctx = info.context
        return BudgetType.from_model(await ctx.budgets.get(ctx.principal, str(id)))

    @strawberry.field(
        description="Pre-flight check before an expensive call (INGEST or READ key): the active budgets the call "
        "would count against and whether any is exceeded. Describe the call as trackUsage would."
    )
    async def budget_status(
        self,
        info: strawberry.Info[BudgetsContext],
        workspace_id: strawberry.ID,
        user_id: str | None = None,
        provider: str | None = None,
        provider_instance_id: strawberry.ID | None = None,
        model: str | None = None,
        task_type: str | None = None,
        tags: list[TagFilter] | None = None,
    ) -> BudgetStatusType:
        ctx = info.context
        call = {
            BudgetScope.USER: user_id,
            BudgetScope.PROVIDER: normalize_provider(provider) if provider else None,
            BudgetScope.PROVIDER_INSTANCE: str(provider_instance_id) if provider_instance_id else None,
            BudgetScope.MODEL: model,
            BudgetScope.TASK_TYPE: task_type,
        }
        given_tags = {t.key: t.value for t in tags or () if t.value is not None}
        check = await ctx.budgets.status(ctx.principal, workspace_ref=str(workspace_id), call=call, tags=given_tags)
        return BudgetStatusType.from_model(check, readable=ctx.principal.allows(Scope.READ))

    @strawberry.field(description="The webhook deliveries of a budget's alerts, newest first, with every attempt.")
    async def webhook_deliveries(
        self, info: strawberry.Info[BudgetsContext], budget_id: strawberry.ID
    ) -> list[WebhookDeliveryType]:
        ctx = info.context
        return [WebhookDeliveryType.from_model(d) for d in await ctx.budgets.deliveries(ctx.principal, str(budget_id))]


@strawberry.type
class BudgetMutation:
    @strawberry.mutation(description="Create a budget (ADMIN). The webhook secret is returned only here.")
    async def create_budget(
        self, info: strawberry.Info[BudgetsContext], input: CreateBudgetInput
    ) -> CreateBudgetPayload:
        ctx = info.context
        created = await ctx.budgets.create(ctx.principal, workspace_ref=str(input.workspace_id), draft=input.to_model())
        spend = (await ctx.budgets.spend_of([created.budget]))[0]
        return CreateBudgetPayload(budget=BudgetType.from_model(spend), webhook_secret=created.webhook_secret)

    @strawberry.mutation(description="Change, pause (paused: true) or resume a budget (ADMIN).")
    async def update_budget(
        self, info: strawberry.Info[BudgetsContext], id: strawberry.ID, input: UpdateBudgetInput
    ) -> BudgetType:
        ctx = info.context
        budget = await ctx.budgets.update(ctx.principal, str(id), input.to_model())
        return BudgetType.from_model((await ctx.budgets.spend_of([budget]))[0])

    @strawberry.mutation(
        description="Replace a budget's webhook secret (ADMIN): the new one is returned only here, and signs every "
        "attempt from now on, pending deliveries included."
    )
    async def rotate_budget_secret(
        self, info: strawberry.Info[BudgetsContext], id: strawberry.ID
    ) -> RotateBudgetSecretPayload:
        ctx = info.context
        rotated = await ctx.budgets.rotate_secret(ctx.principal, str(id))
        spend = (await ctx.budgets.spend_of([rotated.budget]))[0]
        return RotateBudgetSecretPayload(budget=BudgetType.from_model(spend), webhook_secret=rotated.webhook_secret)

    @strawberry.mutation(description="Delete a budget with its alerts and deliveries (ADMIN); returns its id.")
    async def delete_budget(self, info: strawberry.Info[BudgetsContext], id: strawberry.ID) -> strawberry.ID:
        ctx = info.context
        budget = await ctx.budgets.delete(ctx.principal, str(id))
        return strawberry.ID(str(budget.id))


@strawberry.type
class BudgetSubscription:
    @strawberry.subscription(description="Alerts of the workspace's budgets as they are recorded (READ).")
    async def budget_alerts(
        self, info: strawberry.Info[BudgetsContext], workspace_id: strawberry.ID
    ) -> AsyncGenerator[BudgetAlertType, None]:
        ctx = info.context
        async for alert in ctx.budgets.watch_alerts(ctx.principal, workspace_ref=str(workspace_id)):
            yield BudgetAlertType.from_model(alert)
