"""Catalogue prices measured once and reused: genai-prices' own calculation, made cheap for the ingest path.

Within one price tier, a catalogue price is affine in the token counts: genai-prices splits the counts into
leaves (uncached input = input - cache reads - cache writes, text output = output - reasoning…), multiplies
each leaf by its price (a tiered price: the tier whose start the input tokens exceed) and adds a per-request
price, if any. So seven calls of genai-prices at chosen token counts inside a tier give that tier's cost at
zero and the cost of one more token of each kind, and every later call in that tier at that price is a few
multiplications — equal to the digit to genai-prices' answer (tests/providers/test_affine_prices.py checks
every model of the catalogue, tiers included, at several moments). A call reporting any other kind (audio,
image, 1-hour cache writes, tool-use tokens, searches: see usage_kinds.py) is priced by genai-prices itself.

Profile of trackUsageBatch before this: genai-prices' calculation was 54% of the server's CPU.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from genai_prices import Usage
from genai_prices.data_snapshot import get_snapshot
from genai_prices.types import TieredPrices

from modules.providers.pricing import TokenCounts

Split = tuple[Decimal, Decimal, Decimal]  # (input cost, output cost, total cost: per-call prices included)


@dataclass(frozen=True)
class AffinePrice:
    """Cost at zero tokens, and per token of each kind, split into input and output cost."""

    zero: Split
    prompt: Split
    cached_prompt: Split
    cache_write: Split
    completion: Split
    reasoning: Split

    def cost(self, tokens: TokenCounts) -> Split:
        terms = (
            (self.prompt, tokens.prompt),
            (self.cached_prompt, tokens.cached_prompt),
            (self.cache_write, tokens.cache_write),
            (self.completion, tokens.completion),
            (self.reasoning, tokens.reasoning),
        )
        input_cost, output_cost, total = self.zero
        for (per_input, per_output, per_total), count in terms:
            if count:
                input_cost += per_input * count
                output_cost += per_output * count
                total += per_total * count
        return input_cost, output_cost, total

    @classmethod
    def measure(cls, provider: Any, model: Any, at: datetime, prompt: int) -> AffinePrice:
        """Asks genai-prices at `prompt` input tokens, then one more token of each kind (a cache read, a cache
        write and a reasoning token are parts of the input or output token they come with): all within one
        price tier, where the cost is affine."""

        def at_counts(
            prompt: int = prompt, cached_prompt: int = 0, cache_write: int = 0, completion: int = 0, reasoning: int = 0
        ) -> Split:
            tokens = TokenCounts(prompt, completion, cached_prompt, cache_write, reasoning)
            return calculate(provider, model, tokens, at)

        base, more_prompt = at_counts(), at_counts(prompt=prompt + 1)
        completion = at_counts(completion=1)
        per_prompt = minus(more_prompt, base)
        return cls(
            zero=minus(base, (per_prompt[0] * prompt, per_prompt[1] * prompt, per_prompt[2] * prompt)),
            prompt=per_prompt,
            cached_prompt=minus(at_counts(cached_prompt=1), base),
            cache_write=minus(at_counts(cache_write=1), base),
            completion=minus(completion, base),
            reasoning=minus(at_counts(completion=1, reasoning=1), completion),
        )


def minus(a: Split, b: Split) -> Split:
    return a[0] - b[0], a[1] - b[1], a[2] - b[2]


def usage_of(tokens: TokenCounts) -> Usage:
    """genai-prices' Usage of every kind counted (the main five and the extra kinds)."""
    return Usage(**tokens.kinds())


@dataclass
class MeasuredPrice:
    """One catalogue price: the input sizes where its tiers start, and its affine cost in each tier measured."""

    prices: Any  # genai-prices' ModelPrice, kept so its id stays its own
    tier_starts: list[int]
    tiers: dict[int, AffinePrice]

    def tier_of(self, prompt: int) -> int:
        """genai-prices applies a tier when the input tokens exceed its start."""
        return sum(1 for start in self.tier_starts if prompt > start)

    def lowest_prompt(self, tier: int) -> int | None:
        """An input size inside `tier` with one more still inside it, or None if the tier is that narrow."""
        prompt = self.tier_starts[tier - 1] + 1 if tier else 1
        ceiling = self.tier_starts[tier] if tier < len(self.tier_starts) else None
        return prompt if ceiling is None or prompt + 1 <= ceiling else None


def calculate(provider: Any, model: Any, tokens: TokenCounts, at: datetime) -> Split:
    """genai-prices' own calculation. Raises ValueError for counts it cannot price (a part above its whole)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calculation = model.calc_price(usage_of(tokens), provider, genai_request_timestamp=at)
    return calculation.input_price, calculation.output_price, calculation.total_price


@lru_cache(maxsize=8192)
def find_model(provider: str, model: str) -> tuple[Any, Any] | None:
    """The catalogue's provider and model for the names a call gave (None if unknown); names are a caller's
    free text, so the cache is bounded."""
    try:
        return get_snapshot().find_provider_model(model, None, provider, None)
    except LookupError:
        return None


class AffinePrices:
    """Each catalogue price (one per model and price period) measured, tier by tier, the first time a call
    needs it."""

    def __init__(self) -> None:
        self._measured: dict[int, MeasuredPrice] = {}

    def cost(self, provider: str, model: str, tokens: TokenCounts, at: datetime) -> Split | None:
        """The input, output and total cost of a call at moment `at`, or None if the catalogue does not know
        it. Calls with only the main five kinds are priced by the measured affine price; any other kind is
        priced by genai-prices itself. Raises ValueError for counts genai-prices cannot price."""
        found = find_model(provider, model)
        if found is None:
            return None
        provider_info, model_info = found
        if tokens.extra:  # audio, image, 1-hour cache writes…: rare enough to ask genai-prices each time
            return calculate(provider_info, model_info, tokens, at)
        prices = model_info.get_prices(at)
        measured = self._measured.get(id(prices))
        if measured is None or measured.prices is not prices:
            starts = {t.start for v in vars(prices).values() if isinstance(v, TieredPrices) for t in v.tiers}
            measured = MeasuredPrice(prices=prices, tier_starts=sorted(starts), tiers={})
            self._measured[id(prices)] = measured
        tier = measured.tier_of(tokens.prompt)
        affine = measured.tiers.get(tier)
        if affine is None:
            prompt = measured.lowest_prompt(tier)
            if prompt is None:
                return calculate(provider_info, model_info, tokens, at)
            affine = measured.tiers[tier] = AffinePrice.measure(provider_info, model_info, at, prompt)
        return affine.cost(tokens)
