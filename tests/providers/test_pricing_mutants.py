"""Every price path against costs worked out by hand (as Decimal strings), not against the code's own arithmetic:
a workspace's price with and without its cache rates, the rounding to NUMERIC(20,10), the choice among
overrides, the catalogue's flat, tiered, per-request and reasoning prices, and what the catalogue shows people.
The rates used are the installed genai-prices' (named in each test), so a catalogue upgrade that moves them
fails here first, saying which."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import pytest

from modules.providers.affine_prices import AffinePrices, MeasuredPrice, find_model
from modules.providers.catalogue import CatalogueModel, CatalogueProvider, CatalogueRates, PriceCatalogue, base_rate
from modules.providers.pricing import (
    CostSource,
    ModelPrice,
    PricedCost,
    PriceRequest,
    TokenCounts,
    choose_override,
    quantize,
)

WORKSPACE = uuid.UUID("00000000-0000-0000-0000-00000000000a")
INSTANCE = uuid.UUID("00000000-0000-0000-0000-0000000000b1")
OTHER_INSTANCE = uuid.UUID("00000000-0000-0000-0000-0000000000b2")
AT = datetime(2026, 6, 1, tzinfo=UTC)
# 10,000 prompt tokens: 4,000 read from cache, 1,000 written to it, so 5,000 uncached; 2,000 completion tokens.
TOKENS = TokenCounts(prompt=10_000, completion=2_000, cached_prompt=4_000, cache_write=1_000, reasoning=500)


def own_price(
    cached: str | None = "0.3",
    write: str | None = "3.75",
    *,
    model: str = "gpt-4o",
    provider: str = "openai",
    instance: uuid.UUID | None = None,
    start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
) -> ModelPrice:
    return ModelPrice(
        id=uuid.uuid4(),
        workspace_id=WORKSPACE,
        provider=provider,
        model=model,
        provider_instance_id=instance,
        effective_from=start,
        input_per_million=Decimal(3),
        output_per_million=Decimal(15),
        cached_input_per_million=None if cached is None else Decimal(cached),
        cache_write_per_million=None if write is None else Decimal(write),
        created_at=start,
    )


def as_strings(cost: PricedCost) -> tuple[str | None, str | None, str | None, CostSource]:
    def text(amount: Decimal | None) -> str | None:
        return None if amount is None else str(amount)

    return text(cost.input_cost_usd), text(cost.output_cost_usd), text(cost.cost_usd), cost.source


@pytest.mark.parametrize(
    ("cached", "write", "input_cost"),
    [
        ("0.3", "3.75", "0.0199500000"),  # 5,000 x 3 + 4,000 x 0.30 + 1,000 x 3.75 = 19,950 per million
        (None, None, "0.0300000000"),  # every prompt token at the input rate: 10,000 x 3
        ("0.3", None, "0.0192000000"),  # writes at the input rate: 15,000 + 1,200 + 3,000
        (None, "3.75", "0.0307500000"),  # reads at the input rate: 15,000 + 12,000 + 3,750
    ],
)
def test_a_workspace_price_charges_each_part_of_the_prompt_at_its_rate(cached, write, input_cost):
    cost = own_price(cached, write).cost(TOKENS)
    output_cost = "0.0300000000"  # 2,000 x 15 per million; reasoning tokens are part of the completion
    total = str(Decimal(input_cost) + Decimal(output_cost))
    assert as_strings(cost) == (input_cost, output_cost, total, CostSource.WORKSPACE_OVERRIDE)


def test_costs_are_rounded_half_to_even_at_the_tenth_decimal():
    assert [str(quantize(Decimal(a))) for a in ("1.5E-10", "2.5E-10", "2.50001E-10", "-1.5E-10", "7")] == [
        "2E-10",
        "2E-10",
        "3E-10",
        "-2E-10",
        "7.0000000000",
    ]
    with localcontext() as context:  # whatever the process's decimal context says, a cost rounds half to even
        context.rounding = ROUND_HALF_UP
        assert [str(quantize(Decimal(a))) for a in ("2.5E-10", "3.5E-10")] == ["2E-10", "4E-10"]
    # one prompt token at $0.00025 per million is 2.5E-10 USD: kept as 2E-10, not 3E-10 nor 0.
    price = ModelPrice(**{**vars(own_price()), "input_per_million": Decimal("0.00025")})
    assert as_strings(price.cost(TokenCounts(prompt=1, completion=0))) == (
        "2E-10",
        "0E-10",
        "2E-10",
        CostSource.WORKSPACE_OVERRIDE,
    )


def test_a_split_total_is_its_parts_plus_what_is_priced_per_call():
    plain = PricedCost.split(Decimal("0.1"), Decimal("0.02"), CostSource.CATALOG)
    with_requests = PricedCost.split(Decimal("0.1"), Decimal("0.02"), CostSource.CATALOG, Decimal("0.135"))
    rounded = PricedCost.split(Decimal("1.00000000004"), Decimal("2.00000000004"), CostSource.CATALOG, Decimal(3))
    assert as_strings(plain) == ("0.1000000000", "0.0200000000", "0.1200000000", CostSource.CATALOG)
    assert as_strings(with_requests) == ("0.1000000000", "0.0200000000", "0.1350000000", CostSource.CATALOG)
    # each part rounded on its own, what the total holds beyond them (-8E-11) too: 1 + 2 + (-1E-10)
    assert as_strings(rounded) == ("1.0000000000", "2.0000000000", "2.9999999999", CostSource.CATALOG)


def test_an_unknown_model_and_a_callers_figure_have_no_split():
    assert as_strings(PricedCost.unknown()) == (None, None, None, CostSource.UNKNOWN_MODEL)
    assert as_strings(PricedCost.caller(Decimal("0.42"))) == (None, None, "0.42", CostSource.CALLER)
    with pytest.raises(AssertionError):
        PricedCost.caller(None)


def test_token_counts_name_every_reported_kind_by_its_genai_prices_key_zeros_left_out():
    counts = TokenCounts(
        prompt=10,
        completion=5,
        cached_prompt=3,
        cache_write=2,
        reasoning=1,
        extra=(("input_audio_tokens", 4), ("web_search", 0), ("audio_seconds", 1.5)),
    )
    assert counts.kinds() == {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_read_tokens": 3,
        "cache_write_tokens": 2,
        "output_reasoning_tokens": 1,
        "input_audio_tokens": 4,
        "audio_seconds": 1.5,
    }
    assert TokenCounts(prompt=0, completion=7).kinds() == {"output_tokens": 7}


def request(instance: uuid.UUID | None, at: datetime, *, model: str = "gpt-4o", provider: str = "openai"):
    return PriceRequest(
        workspace_id=WORKSPACE,
        provider=provider,
        model=model,
        provider_instance_id=instance,
        occurred_at=at,
        tokens=TokenCounts(prompt=1, completion=1),
    )


def test_the_override_of_a_call_is_its_instances_own_then_the_latest_started():
    early = own_price(start=datetime(2025, 1, 1, tzinfo=UTC))
    later = own_price(start=datetime(2025, 6, 1, tzinfo=UTC))
    instances = own_price(instance=INSTANCE, start=datetime(2025, 3, 1, tzinfo=UTC))
    others = own_price(instance=OTHER_INSTANCE, start=datetime(2025, 7, 1, tzinfo=UTC))
    future = own_price(start=datetime(2027, 1, 1, tzinfo=UTC))
    another_model = own_price(model="gpt-4o-mini", start=datetime(2025, 8, 1, tzinfo=UTC))
    another_provider = own_price(provider="azure", start=datetime(2025, 8, 1, tzinfo=UTC))
    prices = [future, another_model, another_provider, early, others, instances, later]
    august = datetime(2025, 8, 1, tzinfo=UTC)
    assert choose_override(prices, request(INSTANCE, august)) is instances  # beats the later workspace price
    assert choose_override(prices, request(None, august)) is later
    assert choose_override(prices, request(OTHER_INSTANCE, august)) is others
    assert choose_override(prices, request(None, datetime(2025, 6, 1, tzinfo=UTC))) is later  # from its start
    assert choose_override(prices, request(None, datetime(2025, 5, 31, 23, 59, tzinfo=UTC))) is early
    assert choose_override(prices, request(INSTANCE, datetime(2025, 2, 1, tzinfo=UTC))) is early
    assert choose_override(prices, request(None, datetime(2024, 12, 31, tzinfo=UTC))) is None
    assert choose_override(prices, request(None, august, model="o3")) is None
    assert choose_override([], request(None, august)) is None


def catalogue_cost(provider: str, model: str, tokens: TokenCounts) -> tuple[str | None, str | None, str | None, str]:
    cost = PriceCatalogue().price(provider=provider, model=model, tokens=tokens, at=AT)
    assert cost is not None, (provider, model)
    return as_strings(cost)


def test_a_flat_catalogue_price():
    # gpt-4o: $2.50 input, $1.25 cache reads, $10 output per million: 600 x 2.5 + 400 x 1.25, 100 x 10
    assert catalogue_cost("openai", "gpt-4o", TokenCounts(prompt=1000, completion=100, cached_prompt=400)) == (
        "0.0020000000",
        "0.0010000000",
        "0.0030000000",
        CostSource.CATALOG,
    )


def test_a_tiered_catalogue_price_switches_once_the_input_exceeds_the_tier_start():
    # gpt-5.4: $2.50 input / $0.25 cache reads / $15 output per million up to 272,000 input tokens, then
    # $5 / $0.50 / $22.50 for the whole call.
    at_start = TokenCounts(prompt=272_000, completion=1000, cached_prompt=72_000)
    above = TokenCounts(prompt=272_001, completion=1000, cached_prompt=72_000)
    # 200,000 x 2.5 + 72,000 x 0.25 = 518,000; 1,000 x 15
    assert catalogue_cost("openai", "gpt-5.4", at_start) == (
        "0.5180000000",
        "0.0150000000",
        "0.5330000000",
        CostSource.CATALOG,
    )
    # 200,001 x 5 + 72,000 x 0.5 = 1,036,005; 1,000 x 22.5
    assert catalogue_cost("openai", "gpt-5.4", above) == (
        "1.0360050000",
        "0.0225000000",
        "1.0585050000",
        CostSource.CATALOG,
    )


def test_a_per_request_price_counts_in_the_total_only():
    # perplexity sonar: $1 input, $1 output per million, $12 per thousand requests
    assert catalogue_cost("perplexity", "sonar", TokenCounts(prompt=1000, completion=500)) == (
        "0.0010000000",
        "0.0005000000",
        "0.0135000000",
        CostSource.CATALOG,
    )


def test_reasoning_tokens_priced_apart_are_part_of_the_output_cost():
    # sonar-deep-research on openrouter: $2 input, $8 output, $3 reasoning output per million:
    # 600 text output x 8 + 400 reasoning x 3 = 6,000
    tokens = TokenCounts(prompt=1000, completion=1000, reasoning=400)
    assert catalogue_cost("openrouter", "perplexity/sonar-deep-research", tokens) == (
        "0.0020000000",
        "0.0060000000",
        "0.0080000000",
        CostSource.CATALOG,
    )


def test_one_hour_cache_writes_are_priced_by_genai_prices_itself():
    # claude-haiku-5-5 below 100,000 input tokens: $0.10 input, $0.01 cache reads, $0.125 5-minute and $0.20
    # 1-hour cache writes, $0.50 output per million: 500 x 0.1 + 200 x 0.01 + 200 x 0.125 + 100 x 0.2 = 97
    tokens = TokenCounts(
        prompt=1000, completion=50, cached_prompt=200, cache_write=300, extra=(("cache_write_1h_tokens", 100),)
    )
    assert catalogue_cost("anthropic", "claude-haiku-5-5", tokens) == (
        "0.0000970000",
        "0.0000250000",
        "0.0001220000",
        CostSource.CATALOG,
    )


def test_a_tier_too_narrow_to_measure_is_left_to_genai_prices():
    measured = MeasuredPrice(prices=None, tier_starts=[10, 11], tiers={})
    assert [measured.tier_of(p) for p in (0, 10, 11, 12)] == [0, 0, 1, 2]
    assert [measured.lowest_prompt(t) for t in (0, 1, 2)] == [1, None, 12]
    assert MeasuredPrice(prices=None, tier_starts=[1], tiers={}).lowest_prompt(0) is None  # (0, 1] holds 1 only
    assert MeasuredPrice(prices=None, tier_starts=[2], tiers={}).lowest_prompt(0) == 1  # (0, 2] holds 1 and 2


def test_the_measured_prices_are_kept_per_catalogue_price_and_tier():
    prices = AffinePrices()
    small, large = TokenCounts(prompt=10, completion=1), TokenCounts(prompt=300_000, completion=1)
    assert prices.cost("openai", "gpt-5.4", small, AT) == (Decimal("0.000025"), Decimal("0.000015"), Decimal("0.00004"))
    assert prices.cost("openai", "gpt-5.4", large, AT) == (Decimal("1.5"), Decimal("0.0000225"), Decimal("1.5000225"))
    [measured] = prices._measured.values()
    assert (measured.tier_starts, sorted(measured.tiers)) == ([272_000], [0, 1])
    # an older price of the same model (before 2026) is another catalogue price, measured apart
    assert prices.cost("openai", "gpt-4o", small, datetime(2024, 6, 1, tzinfo=UTC)) == (
        Decimal("0.000025"),
        Decimal("0.000010"),
        Decimal("0.000035"),
    )
    assert len(prices._measured) == 2


def test_model_names_are_resolved_to_the_catalogues():
    catalogue = PriceCatalogue()
    assert catalogue.model_id("openai", "gpt-4o-2024-08-06") == "gpt-4o"
    assert catalogue.model_id("openai", "gpt-from-the-future") is None
    assert catalogue.model_id("in-house", "gpt-4o") is None
    assert find_model("in-house", "llama") is None
    assert catalogue.price(provider="in-house", model="llama", tokens=TOKENS, at=AT) is None


def test_the_rates_people_see_are_the_base_rates_in_force():
    catalogue = PriceCatalogue()
    assert catalogue.rates("openai", "gpt-4o", AT) == CatalogueRates(
        model_id="gpt-4o",
        input_per_million=Decimal("2.5"),
        cached_input_per_million=Decimal("1.25"),
        cache_write_per_million=None,
        output_per_million=Decimal("10"),
        tiered=False,
    )
    assert catalogue.rates("openai", "gpt-5.4", AT) == CatalogueRates(
        model_id="gpt-5.4",
        input_per_million=Decimal("2.5"),
        cached_input_per_million=Decimal("0.25"),
        cache_write_per_million=None,
        output_per_million=Decimal("15"),
        tiered=True,
    )
    assert catalogue.rates("anthropic", "claude-sonnet-4-6", AT) == CatalogueRates(
        model_id="claude-sonnet-4-6",
        input_per_million=Decimal("3"),
        cached_input_per_million=Decimal("0.3"),
        cache_write_per_million=Decimal("3.75"),
        output_per_million=Decimal("15"),
        tiered=False,
    )
    # before 2026-03-13 it was tiered (above 200K input tokens); on AWS the same model is another's, at its price
    assert catalogue.rates("anthropic", "claude-sonnet-4-6", datetime(2026, 3, 1, tzinfo=UTC)) == CatalogueRates(
        model_id="claude-sonnet-4-6",
        input_per_million=Decimal("3"),
        cached_input_per_million=Decimal("0.3"),
        cache_write_per_million=Decimal("3.75"),
        output_per_million=Decimal("15"),
        tiered=True,
    )
    assert catalogue.rates("aws", "claude-sonnet-4-6", AT) == CatalogueRates(
        model_id="regional.anthropic.claude-sonnet-4-6-v1:0",
        input_per_million=Decimal("3.3"),
        cached_input_per_million=Decimal("0.33"),
        cache_write_per_million=Decimal("4.125"),
        output_per_million=Decimal("16.5"),
        tiered=False,
    )
    assert catalogue.rates("openai", "gpt-from-the-future", AT) is None
    assert (base_rate(Decimal(2)), base_rate(None), base_rate("2")) == (
        (Decimal(2), False),
        (None, False),
        (None, False),
    )


def test_the_catalogue_lists_providers_by_id_and_finds_models_by_id_or_name():
    catalogue = PriceCatalogue()
    providers = catalogue.providers()
    assert [p.id for p in providers] == sorted(p.id for p in providers)
    assert CatalogueProvider(id="openai", name="OpenAI") in providers
    assert catalogue.models("no-such-provider", None) is None
    assert catalogue.models("perplexity", "xxxx") == []  # a model without a name is found by its id only
    every = catalogue.models("perplexity", None)
    assert every is not None and [m.id for m in every] == sorted(m.id for m in every)
    assert len(every) == 23  # no search: every model of the provider
    deep_research = CatalogueModel(
        provider="perplexity",
        id="sonar-deep-research",
        name="Sonar Deep Research",
        context_window=128000,
        deprecated=False,
    )
    assert catalogue.models("perplexity", "DEEP-research") == [deep_research]  # by id, whatever the case
    assert catalogue.models("perplexity", "70b") == [  # by name ("70B"), which the id does not say
        CatalogueModel(
            provider="perplexity",
            id="llama-3.1-sonar-large-128k-online",
            name="Llama 3.1 Sonar 70B Online",
            context_window=None,
            deprecated=False,
        )
    ]
    assert catalogue.models("avian", "405b") == [
        CatalogueModel(
            provider="avian", id="Meta-Llama-3.1-405B-Instruct", name=None, context_window=None, deprecated=True
        )
    ]


def test_a_call_priced_by_genai_prices_itself_is_priced_at_its_own_moment():
    # claude-sonnet-4-6 with 1-hour cache writes: until 2026-03-13, above 200,000 input tokens, $6 input, $7.50
    # 5-minute and $12 1-hour writes, $22.50 output per million; after, a flat $3 / $3.75 / $6 / $15.
    tokens = TokenCounts(prompt=300_000, completion=1000, cache_write=2000, extra=(("cache_write_1h_tokens", 1000),))
    catalogue = PriceCatalogue()
    before = catalogue.price(
        provider="anthropic", model="claude-sonnet-4-6", tokens=tokens, at=datetime(2026, 3, 1, tzinfo=UTC)
    )
    after = catalogue.price(provider="anthropic", model="claude-sonnet-4-6", tokens=tokens, at=AT)
    assert before is not None and after is not None
    # 298,000 x 6 + 1,000 x 7.5 + 1,000 x 12 = 1,807,500; 1,000 x 22.5
    assert as_strings(before) == ("1.8075000000", "0.0225000000", "1.8300000000", CostSource.CATALOG)
    # 298,000 x 3 + 1,000 x 3.75 + 1,000 x 6 = 903,750; 1,000 x 15
    assert as_strings(after) == ("0.9037500000", "0.0150000000", "0.9187500000", CostSource.CATALOG)


def test_a_tier_is_measured_once_then_priced_without_asking_genai_prices(monkeypatch):
    from modules.providers import affine_prices

    asked: list[TokenCounts] = []
    real = affine_prices.calculate

    def counting(provider: Any, model: Any, tokens: TokenCounts, at: datetime) -> Any:
        asked.append(tokens)
        return real(provider, model, tokens, at)

    monkeypatch.setattr(affine_prices, "calculate", counting)
    prices = AffinePrices()
    small = [TokenCounts(prompt=n, completion=1) for n in (10, 20, 30)]
    assert [prices.cost("openai", "gpt-5.4", t, AT) for t in small] == [
        (Decimal("0.000025"), Decimal("0.000015"), Decimal("0.00004")),
        (Decimal("0.00005"), Decimal("0.000015"), Decimal("0.000065")),
        (Decimal("0.000075"), Decimal("0.000015"), Decimal("0.00009")),
    ]
    assert len(asked) == 6  # one measurement of the lowest tier: base, +1 prompt, +1 of each other kind
    prices.cost("openai", "gpt-5.4", TokenCounts(prompt=300_000, completion=1), AT)
    prices.cost("openai", "gpt-5.4", TokenCounts(prompt=400_000, completion=1), AT)
    assert len(asked) == 12  # the upper tier measured once too


def test_a_tier_that_cannot_be_measured_is_priced_by_genai_prices_at_the_calls_moment(monkeypatch):
    monkeypatch.setattr(MeasuredPrice, "lowest_prompt", lambda self, tier: None)
    tokens = TokenCounts(prompt=300_000, completion=0)
    prices = AffinePrices()
    # claude-sonnet-4-6 above 200,000 input tokens: $6 per million until 2026-03-13, then $3
    assert prices.cost("anthropic", "claude-sonnet-4-6", tokens, datetime(2026, 3, 1, tzinfo=UTC)) == (
        Decimal("1.8"),
        Decimal("0"),
        Decimal("1.8"),
    )
    assert prices.cost("anthropic", "claude-sonnet-4-6", tokens, AT) == (Decimal("0.9"), Decimal("0"), Decimal("0.9"))
