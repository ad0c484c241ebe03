"""LLM providers, their models and prices: the catalogue (genai-prices) and workspace overrides."""

from modules.providers.pricing import PricedCost, PriceRequest, TokenCounts, quantize
from modules.providers.service import MAX_MODEL_LENGTH, MAX_PROVIDER_LENGTH, ProviderService, normalize_provider
from modules.providers.types import CostSource  # from types: registered as the GraphQL enum before any use

__all__ = [
    "MAX_MODEL_LENGTH",
    "MAX_PROVIDER_LENGTH",
    "CostSource",
    "PriceRequest",
    "PricedCost",
    "ProviderService",
    "TokenCounts",
    "normalize_provider",
    "quantize",
]
