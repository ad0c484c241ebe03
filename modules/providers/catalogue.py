"""The public price catalogue: an adapter over `genai-prices`, read offline from the installed package.

Its auto-update (which fetches from the internet) is never started: new prices come with a package upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import genai_prices
from genai_prices.data_snapshot import get_snapshot
from genai_prices.types import TieredPrices

from modules.providers.affine_prices import AffinePrices, find_model
from modules.providers.pricing import CostSource, PricedCost, TokenCounts


@dataclass(frozen=True)
class CatalogueProvider:
    id: str
    name: str


@dataclass(frozen=True)
class CatalogueModel:
    provider: str
    id: str
    name: str | None
    context_window: int | None
    deprecated: bool


@dataclass(frozen=True)
class CatalogueRates:
    """USD per million tokens in force at a moment; a tiered price shows its base (lowest) tier."""

    model_id: str
    input_per_million: Decimal | None
    cached_input_per_million: Decimal | None
    cache_write_per_million: Decimal | None
    output_per_million: Decimal | None
    tiered: bool


def base_rate(value: object) -> tuple[Decimal | None, bool]:
    if isinstance(value, TieredPrices):
        return value.base, True
    return (value if isinstance(value, Decimal) else None), False


class PriceCatalogue:
    """Prices of calls, and views of the catalogue for people: providers, models, rates."""

    version: str = genai_prices.__version__

    def __init__(self) -> None:
        self.affine = AffinePrices()

    def price(self, *, provider: str, model: str, tokens: TokenCounts, at: datetime) -> PricedCost | None:
        """The catalogue's cost of a call at moment `at`, or None if it does not know the provider+model.
        Raises ValueError for counts genai-prices cannot price (a part above its whole)."""
        split = self.affine.cost(provider, model, tokens, at)
        if split is None:
            return None
        input_cost, output_cost, total = split
        return PricedCost.split(input_cost, output_cost, CostSource.CATALOG, total)

    def model_id(self, provider: str, model: str) -> str | None:
        """The catalogue's id of the model a call names (`gpt-4o` for `gpt-4o-2024-08-06`), None if unknown."""
        found = find_model(provider, model)
        return found[1].id if found is not None else None

    def providers(self) -> list[CatalogueProvider]:
        return sorted((CatalogueProvider(id=p.id, name=p.name) for p in get_snapshot().providers), key=lambda p: p.id)

    def models(self, provider: str, search: str | None) -> list[CatalogueModel] | None:
        """The provider's models whose id or name contains `search`; None for an unknown provider."""
        found = next((p for p in get_snapshot().providers if p.id == provider), None)
        if found is None:
            return None
        needle = (search or "").lower()
        return [
            CatalogueModel(
                provider=found.id,
                id=m.id,
                name=m.name,
                context_window=m.context_window,
                deprecated=bool(m.deprecated),
            )
            for m in sorted(found.models, key=lambda m: m.id)
            if needle in m.id.lower() or needle in (m.name or "").lower()
        ]

    def rates(self, provider: str, model: str, at: datetime) -> CatalogueRates | None:
        try:
            _, info = get_snapshot().find_provider_model(model, None, provider, None)
        except LookupError:
            return None
        prices = info.get_prices(at)
        rates = {
            name: base_rate(getattr(prices, key, None))
            for name, key in (
                ("input", "input_mtok"),
                ("cached", "cache_read_mtok"),
                ("write", "cache_write_mtok"),
                ("output", "output_mtok"),
            )
        }
        return CatalogueRates(
            model_id=info.id,
            input_per_million=rates["input"][0],
            cached_input_per_million=rates["cached"][0],
            cache_write_per_million=rates["write"][0],
            output_per_million=rates["output"][0],
            tiered=any(tiered for _, tiered in rates.values()),
        )
