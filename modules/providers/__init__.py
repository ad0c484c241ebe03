"""LLM providers, their models and prices: the catalogue (genai-prices) and workspace overrides."""

from modules.providers.pricing import PricedCost, PriceRequest, TokenCounts, UsageValue, quantize
from modules.providers.service import (
    MAX_MODEL_LENGTH,
    MAX_PROVIDER_LENGTH,
    ProviderService,
    UnpriceableUsage,
    normalize_provider,
)
from modules.providers.types import CostSource  # from types: registered as the GraphQL enum before any use
from modules.providers.usage_kinds import (
    AUDIO_KINDS,
    MAIN_KINDS,
    ReadUsage,
    UnreadableUsage,
    inconsistency,
    kind_problem,
    read_usage,
)

__all__ = [
    "AUDIO_KINDS",
    "MAIN_KINDS",
    "MAX_MODEL_LENGTH",
    "MAX_PROVIDER_LENGTH",
    "CostSource",
    "PriceRequest",
    "PricedCost",
    "ProviderService",
    "ReadUsage",
    "TokenCounts",
    "UnpriceableUsage",
    "UnreadableUsage",
    "UsageValue",
    "inconsistency",
    "kind_problem",
    "normalize_provider",
    "quantize",
    "read_usage",
]
