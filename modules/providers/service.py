"""Providers: instances, a workspace's own prices, and pricing calls (override first, then catalogue)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.cache import NotifiedCache, announce_change, cached_many
from modules.core.database import Database
from modules.core.errors import BadUserInput, Conflict, Problem
from modules.core.ids import parse_uuid
from modules.core.principal import Principal, Scope
from modules.providers.catalogue import CatalogueModel, CatalogueProvider, PriceCatalogue
from modules.providers.pricing import (
    CostSource,
    ModelPrice,
    PricedCost,
    PriceQuote,
    PriceRequest,
    TokenCounts,
    choose_override,
)
from modules.providers.repository import ProviderInstance, ProviderRepository
from modules.workspaces import WorkspaceService

MAX_PROVIDER_LENGTH = 100
MAX_MODEL_LENGTH = 200
MAX_INSTANCE_NAME_LENGTH = 100
MAX_NOTES_LENGTH = 2000
MAX_PRICE_PER_MILLION = Decimal(1_000_000)
ALWAYS = datetime(1970, 1, 1, tzinfo=UTC)
PRICES_CHANNEL = "llm_usage_prices_changed"  # a workspace's own prices changed: cached overrides are forgotten
PriceKey = tuple[UUID, str, str]  # (workspace, provider, model)


class UnpriceableUsage(ValueError):
    """Counts genai-prices refuses to price (a part above its whole, a part without its whole), by the index
    of the request, with its reason; `costs` holds every request's cost (unknown for those refused)."""

    def __init__(self, reasons: dict[int, str], costs: list[PricedCost]) -> None:
        super().__init__("; ".join(reasons.values()))
        self.reasons = reasons
        self.costs = costs


def normalize_provider(provider: str) -> str:
    """Provider ids are case-insensitive ('OpenAI' is 'openai'), as in the catalogue."""
    return provider.strip().lower()


def text_problem(field: str, value: str | None, maximum: int, *, required: bool = True) -> Problem | None:
    if value is None:
        return Problem(field, "is required") if required else None
    if "\x00" in value:
        return Problem(field, "must not contain NUL characters")
    if required and not value.strip():
        return Problem(field, "must not be empty")
    if len(value) > maximum:
        return Problem(field, f"must be at most {maximum} characters (got {len(value)})")
    return None


class ProviderService:
    def __init__(
        self,
        *,
        database: Database,
        repository: ProviderRepository,
        catalogue: PriceCatalogue,
        workspaces: WorkspaceService,
        overrides: NotifiedCache[PriceKey, list[ModelPrice]] | None = None,
    ) -> None:
        self.database = database
        self.repository = repository
        self.catalogue = catalogue
        self.workspaces = workspaces
        self.overrides = overrides  # each (workspace, provider, model)'s own prices, [] for none; None: not kept

    async def price_many(
        self, requests: Sequence[PriceRequest], session: AsyncSession | None = None
    ) -> list[PricedCost]:
        """The cost of each call, in order: the workspace's override if one applies, else the catalogue's
        price at the call's own time, else unknown. Overrides are read in `session` when given (the caller's
        transaction: one round trip, no transaction of its own)."""
        by_key = await self._overrides_of({(r.workspace_id, r.provider, r.model) for r in requests}, session)
        costs = []
        refused: dict[int, str] = {}
        for index, request in enumerate(requests):
            override = choose_override(by_key.get((request.workspace_id, request.provider, request.model), []), request)
            if override is not None:
                costs.append(override.cost(request.tokens))
                continue
            try:
                priced = self.catalogue.price(
                    provider=request.provider, model=request.model, tokens=request.tokens, at=request.occurred_at
                )
            except ValueError as error:
                refused[index], priced = str(error), None
            costs.append(priced or PricedCost.unknown())
        if refused:
            raise UnpriceableUsage(refused, costs)
        return costs

    async def _overrides_of(
        self, keys: set[PriceKey], session: AsyncSession | None
    ) -> dict[PriceKey, list[ModelPrice]]:
        """Each key's overrides: from the cache (kept until a change is announced), the rest read in one query."""

        async def read(missing: set[PriceKey]) -> dict[PriceKey, list[ModelPrice]]:
            if session is not None:
                prices = await self.repository.prices_for(session, missing)
            else:
                async with self.database.session_factory() as own:
                    prices = await self.repository.prices_for(own, missing)
            found: dict[PriceKey, list[ModelPrice]] = {key: [] for key in missing}
            for price in prices:
                found[(price.workspace_id, price.provider, price.model)].append(price)
            return found

        return await cached_many(self.overrides, keys, read)

    def catalogue_model(self, provider: str, model: str) -> str | None:
        """The catalogue's id of the model a call names: one id for a model's dated snapshots."""
        return self.catalogue.model_id(provider, model)

    async def instances_by_id(self, ids: Collection[UUID]) -> dict[UUID, ProviderInstance]:
        async with self.database.session_factory() as session:
            return await self.repository.instances_by_id(session, ids)

    async def create_instance(
        self,
        principal: Principal,
        *,
        workspace_ref: str,
        provider: str,
        name: str,
        base_url: str | None,
        notes: str | None,
    ) -> ProviderInstance:
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.ADMIN, field="workspaceId")
        problems = [
            p
            for p in (
                text_problem("provider", provider, MAX_PROVIDER_LENGTH),
                text_problem("name", name, MAX_INSTANCE_NAME_LENGTH),
                text_problem("baseUrl", base_url, MAX_NOTES_LENGTH, required=False),
                text_problem("notes", notes, MAX_NOTES_LENGTH, required=False),
            )
            if p
        ]
        if problems:
            raise BadUserInput(problems)
        async with self.database.session_factory.begin() as session:
            instance = await self.repository.insert_instance(
                session,
                workspace_id=workspace.id,
                provider=normalize_provider(provider),
                name=name.strip(),
                base_url=base_url,
                notes=notes,
            )
        if instance is None:
            raise Conflict(f"this workspace already has a {provider} instance named {name!r}", field="name")
        return instance

    async def list_instances(self, principal: Principal, *, workspace_ref: str) -> list[ProviderInstance]:
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.READ, field="workspaceId")
        async with self.database.session_factory() as session:
            return await self.repository.instances(session, workspace_id=workspace.id)

    async def set_model_price(
        self,
        principal: Principal,
        *,
        workspace_ref: str,
        provider: str,
        model: str,
        provider_instance_id: str | None,
        effective_from: datetime | None,
        input_per_million: Decimal,
        output_per_million: Decimal,
        cached_input_per_million: Decimal | None,
        cache_write_per_million: Decimal | None,
    ) -> ModelPrice:
        """Set (or replace, for the same start) a workspace's own price; without a start it applies always."""
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.ADMIN, field="workspaceId")
        problems = [
            p
            for p in (
                text_problem("provider", provider, MAX_PROVIDER_LENGTH),
                text_problem("model", model, MAX_MODEL_LENGTH),
            )
            if p
        ]
        rates = {
            "inputPerMillion": input_per_million,
            "outputPerMillion": output_per_million,
            "cachedInputPerMillion": cached_input_per_million,
            "cacheWritePerMillion": cache_write_per_million,
        }
        for field, rate in rates.items():
            if rate is not None and not Decimal(0) <= rate <= MAX_PRICE_PER_MILLION:
                problems.append(Problem(field, f"must be between 0 and {MAX_PRICE_PER_MILLION} USD per million"))
        if effective_from is not None and effective_from.tzinfo is None:
            problems.append(Problem("effectiveFrom", "must include a UTC offset, e.g. 2026-01-01T00:00:00Z"))
        instance_id = None
        if provider_instance_id is not None:
            instance_id = parse_uuid(provider_instance_id)
            instances = await self.instances_by_id({instance_id}) if instance_id else {}
            instance = instances.get(instance_id) if instance_id else None
            if instance is None or instance.workspace_id != workspace.id:
                problems.append(Problem("providerInstanceId", "no such provider instance in this workspace"))
        if problems:
            raise BadUserInput(problems)
        async with self.database.session_factory.begin() as session:
            price = await self.repository.upsert_price(
                session,
                workspace_id=workspace.id,
                provider=normalize_provider(provider),
                model=model.strip(),
                provider_instance_id=instance_id,
                effective_from=effective_from or ALWAYS,
                input_per_million=input_per_million,
                output_per_million=output_per_million,
                cached_input_per_million=cached_input_per_million,
                cache_write_per_million=cache_write_per_million,
            )
            await announce_change(session, PRICES_CHANNEL)
        if self.overrides is not None:
            self.overrides.clear()  # this process at once; the others when the NOTIFY arrives
        return price

    async def model_prices(
        self, principal: Principal, *, workspace_ref: str, provider: str | None, model: str | None
    ) -> list[ModelPrice]:
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.READ, field="workspaceId")
        async with self.database.session_factory() as session:
            return await self.repository.prices(
                session,
                workspace_id=workspace.id,
                provider=normalize_provider(provider) if provider else None,
                model=model,
            )

    def catalogue_providers(self, principal: Principal) -> list[CatalogueProvider]:
        principal.require_authenticated()
        return self.catalogue.providers()

    def catalogue_models(self, principal: Principal, *, provider: str, search: str | None) -> list[CatalogueModel]:
        principal.require_authenticated()
        models = self.catalogue.models(normalize_provider(provider), search)
        if models is None:
            raise BadUserInput.of("provider", f"{provider!r} is not in the catalogue (see `providers`)")
        return models

    async def quote(
        self,
        principal: Principal,
        *,
        workspace_ref: str,
        provider: str,
        model: str,
        at: datetime | None,
        provider_instance_id: str | None,
    ) -> PriceQuote | None:
        """The rates that would price such a call at `at` (default now): the workspace's own price if one
        applies, else the catalogue's; None if neither knows the model."""
        workspace = await self.workspaces.authorize(principal, workspace_ref, Scope.READ, field="workspaceId")
        if at is not None and at.tzinfo is None:
            raise BadUserInput.of("at", "must include a UTC offset, e.g. 2026-01-01T00:00:00Z")
        provider, model, moment = normalize_provider(provider), model.strip(), at or datetime.now(UTC)
        request = PriceRequest(
            workspace_id=workspace.id,
            provider=provider,
            model=model,
            provider_instance_id=parse_uuid(provider_instance_id) if provider_instance_id else None,
            occurred_at=moment,
            tokens=TokenCounts(prompt=0, completion=0),
        )
        async with self.database.session_factory() as session:
            overrides = await self.repository.prices_for(session, {(workspace.id, provider, model)})
        override = choose_override(overrides, request)
        if override is not None:
            return PriceQuote(
                provider=provider,
                model=model,
                source=CostSource.WORKSPACE_OVERRIDE,
                input_per_million=override.input_per_million,
                cached_input_per_million=override.cached_input_per_million or override.input_per_million,
                cache_write_per_million=override.cache_write_per_million or override.input_per_million,
                output_per_million=override.output_per_million,
                tiered=False,
                effective_from=override.effective_from,
            )
        rates = self.catalogue.rates(provider, model, moment)
        if rates is None:
            return None
        return PriceQuote(
            provider=provider,
            model=rates.model_id,
            source=CostSource.CATALOG,
            input_per_million=rates.input_per_million,
            cached_input_per_million=rates.cached_input_per_million,
            cache_write_per_million=rates.cache_write_per_million,
            output_per_million=rates.output_per_million,
            tiered=rates.tiered,
            effective_from=None,
        )
