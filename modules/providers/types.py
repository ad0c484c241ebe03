"""GraphQL surface of the providers module."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from modules.providers.catalogue import CatalogueModel, CatalogueProvider
from modules.providers.pricing import CostSource as CostSource  # re-exported once registered, below
from modules.providers.pricing import ModelPrice as ModelPriceData
from modules.providers.pricing import PriceQuote
from modules.providers.repository import ProviderInstance as ProviderInstanceData

# strawberry.enum marks the class in place: fields annotate with the class itself, in types decorated after
# this (strawberry resolves a field's type when its class is decorated).
strawberry.enum(CostSource, name="CostSource", description="Where an event's cost came from.")


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


@strawberry.type(name="Provider", description="A provider of the price catalogue (genai-prices).")
class ProviderType:
    id: str
    name: str

    @classmethod
    def from_model(cls, provider: CatalogueProvider) -> ProviderType:
        return cls(id=provider.id, name=provider.name)


@strawberry.type(name="CatalogueModel", description="A model of the price catalogue.")
class CatalogueModelType:
    provider: str
    id: str
    name: str | None
    context_window: int | None
    deprecated: bool

    @classmethod
    def from_model(cls, model: CatalogueModel) -> CatalogueModelType:
        return cls(
            provider=model.provider,
            id=model.id,
            name=model.name,
            context_window=model.context_window,
            deprecated=model.deprecated,
        )


@strawberry.type(
    name="ModelPriceQuote",
    description="USD per million tokens that would price a call, and the source that answered "
    "(WORKSPACE_OVERRIDE or CATALOG). `tiered`: the catalogue charges more above a context size; the base "
    "tier is shown.",
)
class ModelPriceQuoteType:
    provider: str
    model: str
    source: CostSource
    input_per_million: Decimal | None
    cached_input_per_million: Decimal | None
    cache_write_per_million: Decimal | None
    output_per_million: Decimal | None
    tiered: bool
    effective_from: datetime | None

    @classmethod
    def from_model(cls, quote: PriceQuote) -> ModelPriceQuoteType:
        return cls(
            provider=quote.provider,
            model=quote.model,
            source=quote.source,
            input_per_million=quote.input_per_million,
            cached_input_per_million=quote.cached_input_per_million,
            cache_write_per_million=quote.cache_write_per_million,
            output_per_million=quote.output_per_million,
            tiered=quote.tiered,
            effective_from=quote.effective_from,
        )
