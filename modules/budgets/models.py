"""Tables of the budgets module: budgets, their per-period spend, the alerts they raised and the webhook
deliveries of those alerts (the outbox a dispatcher drains, so nothing is lost across restarts)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Identity, Index, Integer, Numeric, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from modules.core.database import Base

MONEY = Numeric(20, 10)


class BudgetRow(Base):
    """scope_kind WORKSPACE counts every event of the workspace; the others count events whose field equals
    scope_value (TAG: whose tag scope_tag_key equals scope_value). The webhook secret signs deliveries."""

    __tablename__ = "budgets"
    __table_args__ = (
        # Budgets are read per workspace on every stored batch; names are unique within a workspace.
        Index("uq_budgets_workspace_id_name", "workspace_id", "name", unique=True),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=text("gen_random_uuid()"))
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    scope_kind: Mapped[str] = mapped_column(Text)
    scope_value: Mapped[str | None] = mapped_column(Text)
    scope_tag_key: Mapped[str | None] = mapped_column(Text)
    period: Mapped[str] = mapped_column(Text)
    time_zone: Mapped[str] = mapped_column(Text)
    limit_usd: Mapped[Decimal] = mapped_column(MONEY)
    thresholds: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    webhook_urls: Mapped[list[str]] = mapped_column(ARRAY(Text))
    webhook_secret: Mapped[str] = mapped_column(Text)
    paused: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BudgetPeriodRow(Base):
    """The spend of one budget in one calendar period. Stored batches add to it under its row lock, so
    concurrent batches see consecutive (before, after] spans and a threshold is crossed by exactly one."""

    __tablename__ = "budget_periods"

    budget_id: Mapped[UUID] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    spent_usd: Mapped[Decimal] = mapped_column(MONEY)


class BudgetAlertRow(Base):
    """One alert per (budget, period, threshold): the unique key is what makes alerts fire exactly once."""

    __tablename__ = "budget_alerts"
    __table_args__ = (
        Index(
            "uq_budget_alerts_budget_id_period_start_threshold", "budget_id", "period_start", "threshold", unique=True
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    budget_id: Mapped[UUID] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"))
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    threshold: Mapped[int] = mapped_column(Integer)
    spent_usd: Mapped[Decimal] = mapped_column(MONEY)
    limit_usd: Mapped[Decimal] = mapped_column(MONEY)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WebhookDeliveryRow(Base):
    """One alert to one URL. PENDING rows whose next_attempt_at has passed are due; a dispatcher claims a row
    by moving next_attempt_at past its attempt (a lease), so a crashed attempt is retried, never lost."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The dispatcher's claim: due pending deliveries, oldest first.
        Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'PENDING'")),
        Index("ix_webhook_deliveries_budget_id", "budget_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    budget_id: Mapped[UUID] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"))
    alert_id: Mapped[int] = mapped_column(ForeignKey("budget_alerts.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)  # the exact bytes signed and sent, every attempt the same
    status: Mapped[str] = mapped_column(Text, server_default=text("'PENDING'"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookAttemptRow(Base):
    """Each attempt of a delivery: its answer (HTTP status) or the error that stopped it."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery_id", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
