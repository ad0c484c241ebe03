"""GraphQL surface of the providers module."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from modules.providers.pricing import CostSource
from modules.providers.pricing import ModelPrice as ModelPriceData
from modules.providers.repository import ProviderInstance as ProviderInstanceData

CostSourceType = strawberry.enum(CostSource, name="CostSource", description="Where an event's cost came from.")


@strawberry.type(name="ProviderInstance", description='A named deployment of a provider, e.g. openai "prod-eu".')
class ProviderInstanceType:
    id: strawberry.ID
    workspace_id: strawberry.ID
    provider: str
    name: str
    base_url: str | None
    notes: str | None
    created_at: datetime

    @classmethod
    def from_model(cls, instance: ProviderInstanceData) -> ProviderInstanceType:
        return cls(
            id=strawberry.ID(str(instance.id)),
            workspace_id=strawberry.ID(str(instance.workspace_id)),
            provider=instance.provider,
            name=instance.name,
            base_url=instance.base_url,
            notes=instance.notes,
            created_at=instance.created_at,
        )


@strawberry.type(name="ModelPrice", description="A workspace's own price for a model, USD per million tokens.")
class ModelPriceType:
    id: strawberry.ID
    workspace_id: strawberry.ID
    provider: str
    model: str
    provider_instance_id: strawberry.ID | None
    effective_from: datetime
    input_per_million: Decimal
    output_per_million: Decimal
    cached_input_per_million: Decimal | None = strawberry.field(description="Null: the input rate applies.")
    cache_write_per_million: Decimal | None = strawberry.field(description="Null: the input rate applies.")
    created_at: datetime

    @classmethod
    def from_model(cls, price: ModelPriceData) -> ModelPriceType:
        return cls(
            id=strawberry.ID(str(price.id)),
            workspace_id=strawberry.ID(str(price.workspace_id)),
            provider=price.provider,
            model=price.model,
            provider_instance_id=(
                strawberry.ID(str(price.provider_instance_id)) if price.provider_instance_id else None
            ),
            effective_from=price.effective_from,
            input_per_million=price.input_per_million,
            output_per_million=price.output_per_million,
            cached_input_per_million=price.cached_input_per_million,
            cache_write_per_million=price.cache_write_per_million,
            created_at=price.created_at,
        )


@strawberry.input
class CreateProviderInstanceInput:
    workspace_id: strawberry.ID
    provider: str
    name: str
    base_url: str | None = None
    notes: str | None = None


@strawberry.input(
    description="A workspace's own price for provider+model (optionally one instance), USD per million tokens, "
    "from `effectiveFrom` on (default: always). Setting the same start again replaces it."
)
class SetModelPriceInput:
    workspace_id: strawberry.ID
    provider: str
    model: str
    input_per_million: Decimal
    output_per_million: Decimal
    cached_input_per_million: Decimal | None = None
    cache_write_per_million: Decimal | None = None
    provider_instance_id: strawberry.ID | None = None
    effective_from: datetime | None = None
