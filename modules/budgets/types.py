"""GraphQL surface of the budgets module: output types, built from records by one `from_model` each."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

import strawberry
from strawberry.dataloader import DataLoader

from modules.budgets.records import BudgetAlert, BudgetSpend, DeliveryStatus, WebhookAttempt
from modules.budgets.records import BudgetPeriod as BudgetPeriod  # re-exported (inputs) once registered, below
from modules.budgets.records import BudgetScope as BudgetScope  # re-exported (inputs) once registered, below
from modules.budgets.service import BudgetCheck, BudgetService, DeliveryLog
from modules.budgets.targets import shown_host
from modules.core.principal import Principal, Scope

# strawberry.enum marks the class in place: fields annotate with the class itself, in types decorated after
# this (strawberry resolves a field's type when its class is decorated).
strawberry.enum(
    BudgetScope,
    name="BudgetScope",
    description="What a budget counts: the whole workspace, or the events of one user, provider, provider "
    "instance, model, task type or tag value. Every budget whose scope matches an event counts it.",
)
strawberry.enum(
    BudgetPeriod, name="BudgetPeriod", description="Calendar periods in the budget's time zone (weeks from Monday)."
)
strawberry.enum(DeliveryStatus, name="WebhookDeliveryStatus")


class BudgetsContext(Protocol):
    principal: Principal
    budgets: BudgetService
    budget_alerts_loader: DataLoader[UUID, list[BudgetAlert]]


def shown_url(url: str, principal: Principal) -> str:
    """Webhook URLs often hold a secret (Slack's path does; a query or a user:password@ may): only ADMIN
    callers see more than the scheme and host."""
    if principal.allows(Scope.ADMIN):
        return url
    return f"{shown_host(url)}/\u2026"


@strawberry.type(name="BudgetAlert", description="A threshold crossed: recorded once per budget, period and threshold.")
class BudgetAlertType:
    id: strawberry.ID
    budget_id: strawberry.ID
    workspace_id: strawberry.ID
    period_start: datetime
    threshold_percent: int
    spent_usd: Decimal = strawberry.field(description="The period's spend once the crossing batch was stored.")
    limit_usd: Decimal
    created_at: datetime

    @classmethod
    def from_model(cls, alert: BudgetAlert) -> BudgetAlertType:
        return cls(
            id=strawberry.ID(str(alert.id)),
            budget_id=strawberry.ID(str(alert.budget_id)),
            workspace_id=strawberry.ID(str(alert.workspace_id)),
            period_start=alert.period_start,
            threshold_percent=alert.threshold,
            spent_usd=alert.spent_usd,
            limit_usd=alert.limit_usd,
            created_at=alert.created_at,
        )


@strawberry.type(name="Budget", description="A spending limit over calendar periods, with its current period.")
class BudgetType:
    id: strawberry.ID
    workspace_id: strawberry.ID
    name: str
    scope: BudgetScope
    scope_value: str | None = strawberry.field(description="The user, provider, model… counted; null for WORKSPACE.")
    scope_tag_key: str | None = strawberry.field(description="For TAG: the tag whose value must be scopeValue.")
    period: BudgetPeriod
    time_zone: str
    limit_usd: Decimal
    thresholds: list[int] = strawberry.field(description="Alert thresholds, percent of the limit.")
    paused: bool = strawberry.field(description="A paused budget still counts spend but raises no alerts.")
    created_at: datetime
    updated_at: datetime
    period_start: datetime
    period_end: datetime
    spent_usd: Decimal
    remaining_usd: Decimal = strawberry.field(description="Negative once the limit is passed.")
    percent_used: Decimal
    exceeded: bool
    forecast_usd: Decimal = strawberry.field(description="Spend at period end at this period's run rate so far.")
    webhook_url_list: strawberry.Private[tuple[str, ...]]

    @strawberry.field(description="Where alerts are POSTed; callers without ADMIN see only each URL's scheme and host.")
    def webhook_urls(self, info: strawberry.Info[BudgetsContext]) -> list[str]:
        return [shown_url(url, info.context.principal) for url in self.webhook_url_list]

    @strawberry.field(description="Alerts this budget raised, newest first.")
    async def alerts(self, info: strawberry.Info[BudgetsContext]) -> list[BudgetAlertType]:
        alerts = await info.context.budget_alerts_loader.load(UUID(str(self.id)))
        return [BudgetAlertType.from_model(a) for a in alerts]

    @classmethod
    def from_model(cls, spend: BudgetSpend) -> BudgetType:
        budget = spend.budget
        return cls(
            id=strawberry.ID(str(budget.id)),
            workspace_id=strawberry.ID(str(budget.workspace_id)),
            name=budget.name,
            scope=budget.scope,
            scope_value=budget.scope_value,
            scope_tag_key=budget.scope_tag_key,
            period=budget.period,
            time_zone=budget.time_zone,
            limit_usd=budget.limit_usd,
            thresholds=list(budget.thresholds),
            paused=budget.paused,
            created_at=budget.created_at,
            updated_at=budget.updated_at,
            period_start=spend.period_start,
            period_end=spend.period_end,
            spent_usd=spend.spent_usd,
            remaining_usd=spend.remaining_usd,
            percent_used=spend.percent_used,
            exceeded=spend.exceeded,
            forecast_usd=spend.forecast_usd,
            webhook_url_list=budget.webhook_urls,
        )


SECRET_DESCRIPTION = (
    "Signs every webhook delivery: X-LLM-Usage-Signature: v1=<hex HMAC-SHA256 of `<timestamp>.<body>`>, the "
    "timestamp in X-LLM-Usage-Timestamp. Shown only now: store it with the receiver."
)


@strawberry.type(name="CreateBudgetPayload")
class CreateBudgetPayload:
    budget: BudgetType
    webhook_secret: str = strawberry.field(description=SECRET_DESCRIPTION)


@strawberry.type(name="RotateBudgetSecretPayload")
class RotateBudgetSecretPayload:
    budget: BudgetType
    webhook_secret: str = strawberry.field(
        description=f"The new secret; the old one signs nothing more. {SECRET_DESCRIPTION}"
    )


@strawberry.type(name="BudgetStatus", description="The budgets a call would count against, before it is made.")
class BudgetStatusType:
    exceeded: bool = strawberry.field(description="True when any matching budget has reached its limit.")
    remaining_usd: Decimal | None = strawberry.field(
        description="What the tightest matching budget has left (negative once passed); null when none matches."
    )
    percent_used: Decimal | None = strawberry.field(description="How much of the tightest budget is spent.")
    tightest: BudgetType | None = strawberry.field(
        description="The matching budget with the least remaining; null for a key without READ (an INGEST key "
        "learns whether to go ahead, not the workspace's budgets)."
    )
    budgets: list[BudgetType] = strawberry.field(
        description="Every active matching budget, least remaining first; empty for a key without READ."
    )

    @classmethod
    def from_model(cls, check: BudgetCheck, *, readable: bool) -> BudgetStatusType:
        budgets = [BudgetType.from_model(s) for s in check.matching] if readable else []
        tightest = check.tightest
        return cls(
            exceeded=check.exceeded,
            remaining_usd=tightest.remaining_usd if tightest else None,
            percent_used=tightest.percent_used if tightest else None,
            tightest=budgets[0] if budgets else None,
            budgets=budgets,
        )


def sees_attempt_details(info: strawberry.Info[BudgetsContext]) -> bool:
    """An attempt's status code, error and duration tell an open port from a closed or filtered one: they
    are for ADMIN callers (who set the URLs) only, so that a READ key cannot map a network through them."""
    return info.context.principal.allows(Scope.ADMIN)


@strawberry.type(
    name="WebhookAttempt",
    description="One attempt of a delivery. Callers without ADMIN see only when it was made and whether it was "
    "delivered.",
)
class WebhookAttemptType:
    attempted_at: datetime
    delivered: bool = strawberry.field(description="The receiver answered with a 2xx status.")
    details: strawberry.Private[WebhookAttempt]

    @strawberry.field(description="The receiver's HTTP status; null when none came, and for callers without ADMIN.")
    def status_code(self, info: strawberry.Info[BudgetsContext]) -> int | None:
        return self.details.status_code if sees_attempt_details(info) else None

    @strawberry.field(description="Why the attempt failed; null when delivered, and for callers without ADMIN.")
    def error(self, info: strawberry.Info[BudgetsContext]) -> str | None:
        return self.details.error if sees_attempt_details(info) else None

    @strawberry.field(description="How long the attempt took; null for callers without ADMIN.")
    def duration_ms(self, info: strawberry.Info[BudgetsContext]) -> int | None:
        return self.details.duration_ms if sees_attempt_details(info) else None

    @classmethod
    def from_model(cls, attempt: WebhookAttempt) -> WebhookAttemptType:
        return cls(attempted_at=attempt.attempted_at, delivered=attempt.error is None, details=attempt)


@strawberry.type(name="WebhookDelivery", description="One alert to one URL, with every attempt.")
class WebhookDeliveryType:
    id: strawberry.ID
    alert_id: strawberry.ID
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None = strawberry.field(description="Null once delivered or given up.")
    created_at: datetime
    delivered_at: datetime | None
    attempts: list[WebhookAttemptType]
    full_url: strawberry.Private[str]

    @strawberry.field(description="Where it goes; callers without ADMIN see only the scheme and host.")
    def url(self, info: strawberry.Info[BudgetsContext]) -> str:
        return shown_url(self.full_url, info.context.principal)

    @classmethod
    def from_model(cls, log: DeliveryLog) -> WebhookDeliveryType:
        delivery = log.delivery
        return cls(
            id=strawberry.ID(str(delivery.id)),
            alert_id=strawberry.ID(str(delivery.alert_id)),
            status=delivery.status,
            attempt_count=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at if delivery.status is DeliveryStatus.PENDING else None,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
            attempts=[WebhookAttemptType.from_model(a) for a in log.attempts],
            full_url=delivery.url,
        )
