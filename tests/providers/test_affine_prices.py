"""The measured (affine) catalogue prices equal genai-prices' own calculation, for every model of the catalogue,
at several moments (prices change over time) and random token counts across every price tier."""

from __future__ import annotations

import random
import warnings
from datetime import UTC, datetime

import genai_prices
from genai_prices.data_snapshot import get_snapshot
from genai_prices.types import TieredPrices

from modules.providers.affine_prices import AffinePrices, usage_of
from modules.providers.pricing import TokenCounts

MOMENTS = [datetime(2024, 6, 1, tzinfo=UTC), datetime(2025, 9, 15, 12, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)]


def random_tokens(rng: random.Random) -> TokenCounts:
    prompt, completion = rng.randrange(0, rng.choice([1_000, 300_000, 2_000_000])), rng.randrange(0, 50_000)
    cached = rng.randrange(0, prompt + 1) if rng.random() < 0.5 else 0
    write = rng.randrange(0, prompt - cached + 1) if rng.random() < 0.3 else 0
    reasoning = rng.randrange(0, completion + 1) if rng.random() < 0.4 else 0
    return TokenCounts(
        prompt=prompt, completion=completion, cached_prompt=cached, cache_write=write, reasoning=reasoning
    )


def reference(provider: str, model: str, tokens: TokenCounts, at: datetime) -> tuple | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            calculation = genai_prices.calc_price(
                usage_of(tokens), model, provider_id=provider, genai_request_timestamp=at
            )
        except LookupError:
            return None
    return calculation.input_price, calculation.output_price, calculation.total_price


def test_every_catalogue_model_costs_what_genai_prices_computes():
    rng = random.Random(5)
    prices = AffinePrices()
    compared = tiered = 0
    for provider in get_snapshot().providers:
        for model in provider.models:
            for at in MOMENTS:
                for _ in range(3):
                    tokens = random_tokens(rng)
                    expected = reference(provider.id, model.id, tokens, at)
                    assert prices.cost(provider.id, model.id, tokens, at) == expected, (provider.id, model.id, tokens)
                    compared += 1
            tiered += any(isinstance(v, TieredPrices) for v in vars(model.get_prices(MOMENTS[-1])).values())
    assert compared > 10_000
    assert tiered > 10, "tiered prices are in the catalogue, and compared"


def test_unknown_models_have_no_catalogue_price():
    tokens = TokenCounts(prompt=10, completion=5)
    assert AffinePrices().cost("openai", "no-such-model-xyz", tokens, MOMENTS[-1]) is None
    assert AffinePrices().cost("no-such-provider", "gpt-4o", tokens, MOMENTS[-1]) is None


def test_tier_edges_cost_what_genai_prices_computes():
    """Around every tier start (genai-prices applies a tier once the input tokens exceed its start)."""
    prices = AffinePrices()
    edges = 0
    for provider in get_snapshot().providers:
        for model in provider.models:
            for at in MOMENTS:
                model_prices = vars(model.get_prices(at)).values()
                starts = {t.start for v in model_prices if isinstance(v, TieredPrices) for t in v.tiers}
                for start in starts:
                    for prompt in (start - 1, start, start + 1, start + 2):
                        tokens = TokenCounts(prompt=prompt, completion=77, cached_prompt=prompt // 3, reasoning=7)
                        expected = reference(provider.id, model.id, tokens, at)
                        assert prices.cost(provider.id, model.id, tokens, at) == expected, (model.id, prompt)
                        edges += 1
    assert edges > 40
