"""LLM providers, their models and prices: the catalogue (genai-prices) and workspace overrides."""

from modules.providers.pricing import CostSource, PricedCost, PriceRequest, TokenCounts, quantize
from modules.providers.service import MAX_MODEL_LENGTH, MAX_PROVIDER_LENGTH, ProviderService, normalize_provider
from modules.providers.types import CostSourceType

__all__ = [
    "MAX_MODEL_LENGTH",
    "MAX_PROVIDER_LENGTH",
    "CostSource",
    "CostSourceType",
    "PriceRequest",
    "PricedCost",
    "ProviderService",
    "TokenCounts",
    "normalize_provider",
    "quantize",
]
