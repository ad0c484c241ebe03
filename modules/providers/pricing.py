"""What a call cost: the data that crosses into the usage module, and the arithmetic of prices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from uuid import UUID

MONEY_QUANTUM = Decimal("1E-10")  # NUMERIC(20, 10): what Postgres keeps of a cost
PER_MILLION = Decimal(1_000_000)


class CostSource(StrEnum):
    CATALOG = "CATALOG"
    WORKSPACE_OVERRIDE = "WORKSPACE_OVERRIDE"
    CALLER = "CALLER"
    UNKNOWN_MODEL = "UNKNOWN_MODEL"


UsageValue = int | float  # a count of one usage kind: tokens are whole, seconds need not be


@dataclass(frozen=True)
class TokenCounts:
    """OpenAI/OpenTelemetry semantics: prompt includes cached and cache-write tokens; completion includes
    reasoning tokens. `extra` holds every other genai-prices usage kind reported (audio, image, 1-hour cache
    writes, tool-use tokens, web searches…), by its genai-prices key, sorted, zeros left out."""

    prompt: int
    completion: int
    cached_prompt: int = 0
    cache_write: int = 0
    reasoning: int = 0
    extra: tuple[tuple[str, UsageValue], ...] = ()

    def kinds(self) -> dict[str, UsageValue]:
        """Every count by its genai-prices key, zeros left out (genai-prices reads them as not reported)."""
        main = {
            "input_tokens": self.prompt,
            "output_tokens": self.completion,
            "cache_read_tokens": self.cached_prompt,
            "cache_write_tokens": self.cache_write,
            "output_reasoning_tokens": self.reasoning,
        }
        return {key: value for key, value in [*main.items(), *self.extra] if value}


@dataclass(frozen=True)
class PriceRequest:
    workspace_id: UUID
    provider: str
    model: str
    provider_instance_id: UUID | None
    occurred_at: datetime
    tokens: TokenCounts


@dataclass(frozen=True)
class PricedCost:
    """A call's cost in USD; all None when the model is unknown (it then counts as 0 in sums). `cost_usd` is
    the input and output costs and whatever is priced per call or per tool use (web searches, requests)."""

    input_cost_usd: Decimal | None
    output_cost_usd: Decimal | None
    cost_usd: Decimal | None
    source: CostSource

    @classmethod
    def unknown(cls) -> PricedCost:
        return cls(None, None, None, CostSource.UNKNOWN_MODEL)

    @classmethod
    def caller(cls, cost_usd: Decimal | None) -> PricedCost:
        """The caller's own figure: it wins over every price, with no input/output split."""
        assert cost_usd is not None
        return cls(None, None, cost_usd, CostSource.CALLER)

    @classmethod
    def split(
        cls, input_cost: Decimal, output_cost: Decimal, source: CostSource, total: Decimal | None = None
    ) -> PricedCost:
        """Each part to NUMERIC(20,10); the total is their sum, plus what `total` holds beyond them."""
        other = quantize(total - input_cost - output_cost) if total is not None else Decimal(0)
        input_cost, output_cost = quantize(input_cost), quantize(output_cost)
        return cls(input_cost, output_cost, input_cost + output_cost + other, source)


def quantize(amount: Decimal) -> Decimal:
    return amount.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class ModelPrice:
    """A workspace's own price, USD per million tokens; cache rates default to the input rate."""

    id: UUID
    workspace_id: UUID
    provider: str
    model: str
    provider_instance_id: UUID | None
    effective_from: datetime
    input_per_million: Decimal
    output_per_million: Decimal
    cached_input_per_million: Decimal | None
    cache_write_per_million: Decimal | None
    created_at: datetime

    def cost(self, tokens: TokenCounts) -> PricedCost:
        cached_rate = self.cached_input_per_million
        write_rate = self.cache_write_per_million
        uncached = tokens.prompt - tokens.cached_prompt - tokens.cache_write
        input_cost = (
            uncached * self.input_per_million
            + tokens.cached_prompt * (self.input_per_million if cached_rate is None else cached_rate)
            + tokens.cache_write * (self.input_per_million if write_rate is None else write_rate)
        ) / PER_MILLION
        output_cost = tokens.completion * self.output_per_million / PER_MILLION
        return PricedCost.split(input_cost, output_cost, CostSource.WORKSPACE_OVERRIDE)

    def applies_to(self, request: PriceRequest) -> bool:
        return (
            self.provider == request.provider
            and self.model == request.model
            and self.provider_instance_id in (None, request.provider_instance_id)
            and self.effective_from <= request.occurred_at
        )


def choose_override(prices: list[ModelPrice], request: PriceRequest) -> ModelPrice | None:
    """The override for a call: an instance's own price beats the workspace's, then the latest start wins."""
    candidates = [p for p in prices if p.applies_to(request)]
    if not candidates:
        return None
    return max(candidates, key=lambda p: (p.provider_instance_id is not None, p.effective_from))


@dataclass(frozen=True)
class PriceQuote:
    """The rates that would price a call of provider+model at a moment, and which source gives them."""

    provider: str
    model: str
    source: CostSource
    input_per_million: Decimal | None
    cached_input_per_million: Decimal | None
    cache_write_per_million: Decimal | None
    output_per_million: Decimal | None
    tiered: bool
    effective_from: datetime | None
