"""All SQL of the providers module."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from modules.providers.models import ModelPriceRow, ProviderInstanceRow
from modules.providers.pricing import ModelPrice


@dataclass(frozen=True)
class ProviderInstance:
    id: UUID
    workspace_id: UUID
    provider: str
    name: str
    base_url: str | None
    notes: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: ProviderInstanceRow) -> ProviderInstance:
        return cls(
            id=row.id,
            workspace_id=row.workspace_id,
            provider=row.provider,
            name=row.name,
            base_url=row.base_url,
            notes=row.notes,
            created_at=row.created_at,
        )


def model_price_from_row(row: ModelPriceRow) -> ModelPrice:
    return ModelPrice(
        id=row.id,
        workspace_id=row.workspace_id,
        provider=row.provider,
        model=row.model,
        provider_instance_id=row.provider_instance_id,
        effective_from=row.effective_from,
        input_per_million=row.input_per_million,
        output_per_million=row.output_per_million,
        cached_input_per_million=row.cached_input_per_million,
        cache_write_per_million=row.cache_write_per_million,
        created_at=row.created_at,
    )


class ProviderRepository:
    async def insert_instance(
        self,
        session: AsyncSession,
        *,
        workspace_id: UUID,
        provider: str,
        name: str,
        base_url: str | None,
        notes: str | None,
    ) -> ProviderInstance | None:
        """The new instance, or None when the workspace already has one of that provider and name."""
        statement = (
            insert(ProviderInstanceRow)
            .values(workspace_id=workspace_id, provider=provider, name=name, base_url=base_url, notes=notes)
            .on_conflict_do_nothing()
            .returning(ProviderInstanceRow)
        )
        row = (await session.execute(statement)).scalar_one_or_none()
        return ProviderInstance.from_row(row) if row else None

    async def instances(self, session: AsyncSession, *, workspace_id: UUID) -> list[ProviderInstance]:
        statement = (
            select(ProviderInstanceRow)
            .where(ProviderInstanceRow.workspace_id == workspace_id)
            .order_by(ProviderInstanceRow.provider, ProviderInstanceRow.name)
        )
        return [ProviderInstance.from_row(row) for row in await session.scalars(statement)]

    async def instances_by_id(self, session: AsyncSession, ids: Collection[UUID]) -> dict[UUID, ProviderInstance]:
        if not ids:
            return {}
        statement = select(ProviderInstanceRow).where(ProviderInstanceRow.id.in_(ids))
        return {row.id: ProviderInstance.from_row(row) for row in await session.scalars(statement)}

    async def upsert_price(
        self,
        session: AsyncSession,
        *,
        workspace_id: UUID,
        provider: str,
        model: str,
        provider_instance_id: UUID | None,
        effective_from: datetime,
        input_per_million: Decimal,
        output_per_million: Decimal,
        cached_input_per_million: Decimal | None,
        cache_write_per_million: Decimal | None,
    ) -> ModelPrice:
        rates = {
            "input_per_million": input_per_million,
            "output_per_million": output_per_million,
            "cached_input_per_million": cached_input_per_million,
            "cache_write_per_million": cache_write_per_million,
        }
        statement = (
            insert(ModelPriceRow)
            .values(
                workspace_id=workspace_id,
                provider=provider,
                model=model,
                provider_instance_id=provider_instance_id,
                effective_from=effective_from,
                **rates,
            )
            .on_conflict_do_update(
                index_elements=[
                    ModelPriceRow.workspace_id,
                    ModelPriceRow.provider,
                    ModelPriceRow.model,
                    ModelPriceRow.provider_instance_id,
                    ModelPriceRow.effective_from,
                ],
                set_=rates,
            )
            .returning(ModelPriceRow)
        )
        return model_price_from_row((await session.execute(statement)).scalar_one())

    async def prices(
        self,
        session: AsyncSession,
        *,
        workspace_id: UUID,
        provider: str | None = None,
        model: str | None = None,
    ) -> list[ModelPrice]:
        statement = select(ModelPriceRow).where(ModelPriceRow.workspace_id == workspace_id)
        if provider is not None:
            statement = statement.where(ModelPriceRow.provider == provider)
        if model is not None:
            statement = statement.where(ModelPriceRow.model == model)
        statement = statement.order_by(ModelPriceRow.provider, ModelPriceRow.model, ModelPriceRow.effective_from.desc())
        return [model_price_from_row(row) for row in await session.scalars(statement)]

    async def prices_for(self, session: AsyncSession, keys: Collection[tuple[UUID, str, str]]) -> list[ModelPrice]:
        """Every override of the given (workspace, provider, model) triples, in one query."""
        if not keys:
            return []
        key = tuple_(ModelPriceRow.workspace_id, ModelPriceRow.provider, ModelPriceRow.model)
        statement = select(ModelPriceRow).where(key.in_(list(keys)))
        return [model_price_from_row(row) for row in await session.scalars(statement)]
