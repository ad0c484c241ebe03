"""The public price catalogue: an adapter over `genai-prices`, read offline from the installed package.

Its auto-update (which fetches from the internet) is never started: new prices come with a package upgrade.
"""

from __future__ import annotations

import warnings
from datetime import datetime

import genai_prices
from genai_prices import Usage

from modules.providers.pricing import CostSource, PricedCost, TokenCounts


class PriceCatalogue:
    version: str = genai_prices.__version__

    def price(self, *, provider: str, model: str, tokens: TokenCounts, at: datetime) -> PricedCost | None:
        """The catalogue's cost of a call at moment `at`, or None if it does not know the provider+model."""
        usage = Usage(
            input_tokens=tokens.prompt,
            cache_read_tokens=tokens.cached_prompt,
            cache_write_tokens=tokens.cache_write,
            output_tokens=tokens.completion,
            output_reasoning_tokens=tokens.reasoning,
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                calculation = genai_prices.calc_price(usage, model, provider_id=provider, genai_request_timestamp=at)
        except LookupError:
            return None
        return PricedCost.split(calculation.input_price, calculation.output_price, CostSource.CATALOG)
