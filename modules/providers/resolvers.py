"""Provider queries and mutations: thin, they call ProviderService."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import strawberry

from modules.core.principal import Principal
from modules.providers.service import ProviderService
from modules.providers.types import (
    CatalogueModelType,
    CreateProviderInstanceInput,
    ModelPriceQuoteType,
    ModelPriceType,
    ProviderInstanceType,
    ProviderType,
    SetModelPriceInput,
)


class ProvidersContext(Protocol):
    principal: Principal
    providers: ProviderService


@strawberry.type
class ProviderQuery:
    @strawberry.field(description="The workspace's own model prices, newest start first per model.")
    async def model_prices(
        self,
        info: strawberry.Info[ProvidersContext],
        workspace_id: strawberry.ID,
        provider: str | None = None,
        model: str | None = None,
    ) -> list[ModelPriceType]:
        ctx = info.context
        prices = await ctx.providers.model_prices(
            ctx.principal, workspace_ref=str(workspace_id), provider=provider, model=model
        )
        return [ModelPriceType.from_model(p) for p in prices]

    @strawberry.field(description="The workspace's provider instances.")
    async def provider_instances(
        self, info: strawberry.Info[ProvidersContext], workspace_id: strawberry.ID
    ) -> list[ProviderInstanceType]:
        ctx = info.context
        instances = await ctx.providers.list_instances(ctx.principal, workspace_ref=str(workspace_id))
        return [ProviderInstanceType.from_model(i) for i in instances]

    @strawberry.field(description="The providers of the price catalogue.")
    def providers(self, info: strawberry.Info[ProvidersContext]) -> list[ProviderType]:
        ctx = info.context
        return [ProviderType.from_model(p) for p in ctx.providers.catalogue_providers(ctx.principal)]

    @strawberry.field(description="A provider's catalogue models whose id or name contains `search`.")
    def models(
        self, info: strawberry.Info[ProvidersContext], provider: str, search: str | None = None
    ) -> list[CatalogueModelType]:
        ctx = info.context
        models = ctx.providers.catalogue_models(ctx.principal, provider=provider, search=search)
        return [CatalogueModelType.from_model(m) for m in models]

    @strawberry.field(
        description="The per-million rates that would price a call at `at` (default now) in this workspace, "
        "and their source; null when neither the workspace nor the catalogue knows the model."
    )
    async def model_price(
        self,
        info: strawberry.Info[ProvidersContext],
        workspace_id: strawberry.ID,
        provider: str,
        model: str,
        at: datetime | None = None,
        provider_instance_id: strawberry.ID | None = None,
    ) -> ModelPriceQuoteType | None:
        ctx = info.context
        quote = await ctx.providers.quote(
            ctx.principal,
            workspace_ref=str(workspace_id),
            provider=provider,
            model=model,
            at=at,
            provider_instance_id=str(provider_instance_id) if provider_instance_id else None,
        )
        return ModelPriceQuoteType.from_model(quote) if quote else None


@strawberry.type
class ProviderMutation:
    @strawberry.mutation(description="Set a workspace's own price for a model; it wins over the catalogue.")
    async def set_model_price(
        self, info: strawberry.Info[ProvidersContext], input: SetModelPriceInput
    ) -> ModelPriceType:
        ctx = info.context
        price = await ctx.providers.set_model_price(
            ctx.principal,
            workspace_ref=str(input.workspace_id),
            provider=input.provider,
            model=input.model,
            provider_instance_id=str(input.provider_instance_id) if input.provider_instance_id else None,
            effective_from=input.effective_from,
            input_per_million=input.input_per_million,
            output_per_million=input.output_per_million,
            cached_input_per_million=input.cached_input_per_million,
            cache_write_per_million=input.cache_write_per_million,
        )
        return ModelPriceType.from_model(price)

    @strawberry.mutation(description="Register a named provider instance; CONFLICT if the name is taken.")
    async def create_provider_instance(
        self, info: strawberry.Info[ProvidersContext], input: CreateProviderInstanceInput
    ) -> ProviderInstanceType:
        ctx = info.context
        instance = await ctx.providers.create_instance(
            ctx.principal,
            workspace_ref=str(input.workspace_id),
            provider=input.provider,
            name=input.name,
            base_url=input.base_url,
            notes=input.notes,
        )
        return ProviderInstanceType.from_model(instance)
