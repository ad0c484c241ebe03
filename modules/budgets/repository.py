"""All SQL of the budgets module. Sessions come from the service (or from the insert transaction of usage
events, for accounting); nothing here commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from modules.budgets.models import BudgetAlertRow, BudgetPeriodRow, BudgetRow, WebhookAttemptRow, WebhookDeliveryRow
from modules.budgets.records import (
    Budget,
    BudgetAlert,
    BudgetFields,
    BudgetPeriod,
    BudgetScope,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
)

ADD_SPEND_SQL = text(
    "UPDATE budget_periods SET spent_usd = spent_usd + :delta "
    "WHERE budget_id = :budget_id AND period_start = :period_start RETURNING spent_usd"
)
# The period's first row starts from what the events table already holds (its sum includes this
# transaction's own events); a concurrent first writer makes it an addition instead.
FIRST_SPEND_SQL = text(
    "INSERT INTO budget_periods (budget_id, period_start, workspace_id, spent_usd) "
    "VALUES (:budget_id, :period_start, :workspace_id, :spent) "
    "ON CONFLICT (budget_id, period_start) DO UPDATE SET spent_usd = budget_periods.spent_usd + :delta "
    "RETURNING spent_usd"
)
# Held until the transaction ends: creations in one workspace count its budgets one after another.
LOCK_WORKSPACE_BUDGETS_SQL = text("SELECT pg_advisory_xact_lock(hashtextextended('budgets:' || :workspace_id, 0))")
CLAIM_DUE_SQL = text(
    "UPDATE webhook_deliveries SET next_attempt_at = :lease_until "
    "WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'PENDING' AND next_attempt_at <= :now "
    "ORDER BY next_attempt_at LIMIT :limit FOR UPDATE SKIP LOCKED) "
    "RETURNING *"
)


def budget_from_row(row: BudgetRow) -> Budget:
    return Budget(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        scope=BudgetScope(row.scope_kind),
        scope_value=row.scope_value,
        scope_tag_key=row.scope_tag_key,
        period=BudgetPeriod(row.period),
        time_zone=row.time_zone,
        limit_usd=row.limit_usd,
        thresholds=tuple(row.thresholds),
        webhook_urls=tuple(row.webhook_urls),
        webhook_secret=row.webhook_secret,
        paused=row.paused,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def alert_from_row(row: Any) -> BudgetAlert:
    return BudgetAlert(
        id=row.id,
        workspace_id=row.workspace_id,
        budget_id=row.budget_id,
        period_start=row.period_start,
        threshold=row.threshold,
        spent_usd=row.spent_usd,
        limit_usd=row.limit_usd,
        created_at=row.created_at,
    )


def delivery_from_row(row: Any) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        workspace_id=row.workspace_id,
        budget_id=row.budget_id,
        alert_id=row.alert_id,
        url=row.url,
        body=row.body,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


def field_values(fields: BudgetFields) -> dict[str, Any]:
    return {
        "name": fields.name,
        "scope_kind": fields.scope.value,
        "scope_value": fields.scope_value,
        "scope_tag_key": fields.scope_tag_key,
        "period": fields.period.value,
        "time_zone": fields.time_zone,
        "limit_usd": fields.limit_usd,
        "thresholds": list(fields.thresholds),
        "webhook_urls": list(fields.webhook_urls),
        "paused": fields.paused,
    }


class BudgetRepository:
    async def create(
        self, session: AsyncSession, *, workspace_id: UUID, fields: BudgetFields, secret: str
    ) -> Budget | None:
        """The new budget, or None when the workspace already has a budget of that name."""
        statement = (
            pg_insert(BudgetRow)
            .values(workspace_id=workspace_id, webhook_secret=secret, **field_values(fields))
            .on_conflict_do_nothing(index_elements=[BudgetRow.workspace_id, BudgetRow.name])
            .returning(BudgetRow)
        )
        row = (await session.execute(statement)).scalar_one_or_none()
        return budget_from_row(row) if row else None

    async def count_locked(self, session: AsyncSession, workspace_id: UUID) -> int:
        """The workspace's number of budgets, counted under a lock kept until the transaction ends, so two
        concurrent creations cannot both see room for one more."""
        await session.execute(LOCK_WORKSPACE_BUDGETS_SQL, {"workspace_id": str(workspace_id)})
        statement = select(func.count()).select_from(BudgetRow).where(BudgetRow.workspace_id == workspace_id)
        return (await session.execute(statement)).scalar_one()

    async def set_secret(self, session: AsyncSession, budget_id: UUID, secret: str) -> Budget:
        statement = (
            update(BudgetRow)
            .where(BudgetRow.id == budget_id)
            .values(webhook_secret=secret, updated_at=text("now()"))
            .returning(BudgetRow)
        )
        return budget_from_row((await session.execute(statement)).scalar_one())

    async def update(self, session: AsyncSession, budget_id: UUID, fields: BudgetFields) -> Budget | None:
        """The changed budget, or None when another budget of the workspace has the new name."""
        statement = (
            update(BudgetRow)
            .where(BudgetRow.id == budget_id)
            .values(updated_at=text("now()"), **field_values(fields))
            .returning(BudgetRow)
        )
        try:
            async with session.begin_nested():
                return budget_from_row((await session.execute(statement)).scalar_one())
        except IntegrityError:
            return None

    async def delete(self, session: AsyncSession, budget_id: UUID) -> None:
        await session.execute(delete(BudgetRow).where(BudgetRow.id == budget_id))

    async def get(self, session: AsyncSession, budget_id: UUID) -> Budget | None:
        row = await session.get(BudgetRow, budget_id)
        return budget_from_row(row) if row else None

    async def of_workspaces(self, session: AsyncSession, workspace_ids: Collection[UUID]) -> list[Budget]:
        statement = select(BudgetRow).where(BudgetRow.workspace_id.in_(list(workspace_ids))).order_by(BudgetRow.name)
        return [budget_from_row(row) for row in (await session.execute(statement)).scalars()]

    async def spent(
        self, session: AsyncSession, keys: Collection[tuple[UUID, datetime]]
    ) -> dict[tuple[UUID, datetime], Decimal]:
        """The counted spend of (budget, period start) pairs that have a row."""
        if not keys:
            return {}
        key = tuple_(BudgetPeriodRow.budget_id, BudgetPeriodRow.period_start)
        statement = select(BudgetPeriodRow.budget_id, BudgetPeriodRow.period_start, BudgetPeriodRow.spent_usd).where(
            key.in_(list(keys))
        )
        return {(r.budget_id, r.period_start): r.spent_usd for r in (await session.execute(statement)).all()}

    async def add_spend(
        self, session: AsyncSession, *, budget: Budget, period_start: datetime, delta: Decimal, counted: Decimal | None
    ) -> Decimal | None:
        """Adds `delta` to the period's spend and returns the new spend; None when the period has no row yet
        and `counted` (the events table's sum) was not given: call again with it."""
        key = {"budget_id": budget.id, "period_start": period_start}
        if counted is None:
            return (await session.execute(ADD_SPEND_SQL, {**key, "delta": delta})).scalar_one_or_none()
        parameters = {**key, "workspace_id": budget.workspace_id, "spent": counted, "delta": delta}
        spent: Decimal = (await session.execute(FIRST_SPEND_SQL, parameters)).scalar_one()
        return spent

    async def insert_alerts(self, session: AsyncSession, alerts: Sequence[dict[str, Any]]) -> list[BudgetAlert]:
        """Records alerts; one already recorded for the same (budget, period, threshold) is not repeated."""
        if not alerts:
            return []
        statement = text(
            "INSERT INTO budget_alerts (workspace_id, budget_id, period_start, threshold, spent_usd, limit_usd) "
            "SELECT * FROM unnest(CAST(:workspace_ids AS uuid[]), CAST(:budget_ids AS uuid[]), "
            "CAST(:period_starts AS timestamptz[]), CAST(:thresholds AS integer[]), CAST(:spent AS numeric[]), "
            "CAST(:limits AS numeric[])) "
            "ON CONFLICT (budget_id, period_start, threshold) DO NOTHING RETURNING *"
        )
        parameters = {
            "workspace_ids": [a["workspace_id"] for a in alerts],
            "budget_ids": [a["budget_id"] for a in alerts],
            "period_starts": [a["period_start"] for a in alerts],
            "thresholds": [a["threshold"] for a in alerts],
            "spent": [a["spent_usd"] for a in alerts],
            "limits": [a["limit_usd"] for a in alerts],
        }
        return [alert_from_row(row) for row in (await session.execute(statement, parameters)).all()]

    async def alerts(self, session: AsyncSession, budget_ids: Collection[UUID]) -> list[BudgetAlert]:
        statement = (
            select(BudgetAlertRow)
            .where(BudgetAlertRow.budget_id.in_(list(budget_ids)))
            .order_by(BudgetAlertRow.id.desc())
        )
        return [alert_from_row(row) for row in (await session.execute(statement)).scalars()]

    async def alerts_by_id(self, session: AsyncSession, ids: Collection[int]) -> list[BudgetAlert]:
        statement = select(BudgetAlertRow).where(BudgetAlertRow.id.in_(list(ids))).order_by(BudgetAlertRow.id)
        return [alert_from_row(row) for row in (await session.execute(statement)).scalars()]

    async def insert_deliveries(self, session: AsyncSession, deliveries: Sequence[dict[str, Any]]) -> None:
        if deliveries:
            await session.execute(insert(WebhookDeliveryRow), list(deliveries))

    async def deliveries(self, session: AsyncSession, budget_id: UUID) -> list[WebhookDelivery]:
        statement = (
            select(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.budget_id == budget_id)
            .order_by(WebhookDeliveryRow.id.desc())
        )
        return [delivery_from_row(row) for row in (await session.execute(statement)).scalars()]

    async def attempts(self, session: AsyncSession, delivery_ids: Collection[int]) -> dict[int, list[WebhookAttempt]]:
        statement = (
            select(WebhookAttemptRow)
            .where(WebhookAttemptRow.delivery_id.in_(list(delivery_ids)))
            .order_by(WebhookAttemptRow.id)
        )
        found: dict[int, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
        for row in (await session.execute(statement)).scalars():
            found[row.delivery_id].append(
                WebhookAttempt(
                    id=row.id,
                    attempted_at=row.attempted_at,
                    status_code=row.status_code,
                    error=row.error,
                    duration_ms=row.duration_ms,
                )
            )
        return found

    async def claim_due(
        self, session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[WebhookDelivery]:
        parameters = {"now": now, "lease_until": lease_until, "limit": limit}
        return [delivery_from_row(row) for row in (await session.execute(CLAIM_DUE_SQL, parameters)).all()]

    async def secrets(self, session: AsyncSession, budget_ids: Collection[UUID]) -> dict[UUID, str]:
        statement = select(BudgetRow.id, BudgetRow.webhook_secret).where(BudgetRow.id.in_(list(budget_ids)))
        return {row.id: row.webhook_secret for row in (await session.execute(statement)).all()}

    async def record_attempt(
        self,
        session: AsyncSession,
        *,
        delivery_id: int,
        attempted_at: datetime,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        status: DeliveryStatus,
        next_attempt_at: datetime,
    ) -> None:
        await session.execute(
            insert(WebhookAttemptRow).values(
                delivery_id=delivery_id,
                attempted_at=attempted_at,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
            )
        )
        await session.execute(
            update(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.id == delivery_id)
            .values(
                attempts=WebhookDeliveryRow.attempts + 1,
                status=status.value,
                next_attempt_at=next_attempt_at,
                delivered_at=attempted_at if status is DeliveryStatus.DELIVERED else None,
            )
        )
