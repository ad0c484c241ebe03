"""Plain data of the budgets module, as the repository returns it and the service hands it out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

DEFAULT_THRESHOLDS = (50, 80, 100)


class BudgetScope(StrEnum):
    WORKSPACE = "WORKSPACE"
    USER = "USER"
    PROVIDER = "PROVIDER"
    PROVIDER_INSTANCE = "PROVIDER_INSTANCE"
    MODEL = "MODEL"
    TASK_TYPE = "TASK_TYPE"
    TAG = "TAG"


class BudgetPeriod(StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # given up: still failing 24 hours after the alert


@dataclass(frozen=True)
class Budget:
    id: UUID
    workspace_id: UUID
    name: str
    scope: BudgetScope
    scope_value: str | None
    scope_tag_key: str | None
    period: BudgetPeriod
    time_zone: str
    limit_usd: Decimal
    thresholds: tuple[int, ...]
    webhook_urls: tuple[str, ...]
    webhook_secret: str
    paused: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class BudgetFields:
    """What a caller sets on a budget (validated): the whole of it on create, the changed part on update."""

    name: str
    scope: BudgetScope
    scope_value: str | None
    scope_tag_key: str | None
    period: BudgetPeriod
    time_zone: str
    limit_usd: Decimal
    thresholds: tuple[int, ...]
    webhook_urls: tuple[str, ...]
    paused: bool


@dataclass(frozen=True)
class BudgetAlert:
    id: int
    workspace_id: UUID
    budget_id: UUID
    period_start: datetime
    threshold: int
    spent_usd: Decimal
    limit_usd: Decimal
    created_at: datetime


@dataclass(frozen=True)
class BudgetSpend:
    """A budget in its current period (or the period holding `at`)."""

    budget: Budget
    period_start: datetime
    period_end: datetime
    spent_usd: Decimal
    at: datetime

    @property
    def remaining_usd(self) -> Decimal:
        return self.budget.limit_usd - self.spent_usd

    @property
    def percent_used(self) -> Decimal:
        if self.budget.limit_usd == 0:
            return Decimal(0) if self.spent_usd == 0 else Decimal(100)
        return (self.spent_usd * 100 / self.budget.limit_usd).quantize(Decimal("0.01"))

    @property
    def exceeded(self) -> bool:
        return self.spent_usd >= self.budget.limit_usd

    @property
    def forecast_usd(self) -> Decimal:
        """Spend at period end if this period's run rate so far goes on in a straight line."""
        elapsed = (min(self.at, self.period_end) - self.period_start).total_seconds()
        length = (self.period_end - self.period_start).total_seconds()
        if elapsed <= 0:
            return self.spent_usd
        return (self.spent_usd * Decimal(length) / Decimal(elapsed)).quantize(Decimal("0.0000000001"))


@dataclass(frozen=True)
class WebhookAttempt:
    id: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True)
class WebhookDelivery:
    id: int
    workspace_id: UUID
    budget_id: UUID
    alert_id: int
    url: str
    body: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
