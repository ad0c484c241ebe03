"""A call's usage in genai-prices' own kinds (input, output, cache reads, 5-minute and 1-hour cache writes, audio,
image and video tokens, reasoning, tool-use tokens, web searches…), read off a provider API's own usage with
`genai_prices.extract_usage`'s extractors, and checked the way genai-prices prices them.

Nothing here knows a provider's wire format: genai-prices keeps one extractor per provider and API flavour
(chat, responses, embeddings, Anthropic messages, Gemini…). What is ours is where the usage sits in what a
caller sends: the whole response body, the usage object alone (placed where the extractor looks for it), or
a stream's final event (a Responses API `response.completed` holds the response under `response`, an
Anthropic `message_start` under `message`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from genai_prices.data_snapshot import get_snapshot
from genai_prices.data_units import unit_data
from genai_prices.units import UnitRegistry

UsageValue = int | float
REGISTRY = UnitRegistry(unit_data)
UNITS = REGISTRY.units
# Every kind a call can report ("requests" is genai-prices' per-call price, never reported).
USAGE_KEYS = frozenset(key for key in UNITS if key != "requests")
# The kinds kept as columns of every event (TokenCounts' fields); every other kind is kept by its key.
MAIN_KINDS = {
    "input_tokens": "prompt",
    "output_tokens": "completion",
    "cache_read_tokens": "cached_prompt",
    "cache_write_tokens": "cache_write",
    "output_reasoning_tokens": "reasoning",
}
TOTALS = ("input_tokens", "output_tokens")  # every priced model reads them: the parts need them
AUDIO_KINDS = ("input_audio_tokens", "output_audio_tokens")  # summed as audioTokens
MAX_COUNT = 2**31 - 1  # as the token fields (GraphQL's Int): sums of a batch stay far inside BIGINT
STREAM_ENVELOPES = ("response", "message")  # a stream event's field holding the response it belongs to


class UnreadableUsage(ValueError):
    """The usage cannot be read or priced as given; `field` is the input field at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


@dataclass(frozen=True)
class ReadUsage:
    """What genai-prices read: the model the response names (None if it names none), its API flavour, and the
    kinds it reported (zero counts left out: genai-prices treats them as not reported)."""

    model: str | None
    api_flavor: str
    kinds: dict[str, UsageValue]


def api_flavors(provider: str) -> list[str] | None:
    """The API flavours genai-prices reads usage of for `provider` ('default' first); None for a provider it
    does not know."""
    try:
        found = get_snapshot().find_provider(None, provider, None)
    except LookupError:
        return None
    flavors = [e.api_flavor for e in found.extractors or ()]
    return sorted(flavors, key=lambda f: f != "default")


def read_usage(raw: object, *, provider: str, api_flavor: str | None) -> ReadUsage:
    """The usage kinds of `raw` (a response body, its usage object, or a stream's final chunk or event) as the
    provider's extractor reads them. Without a flavour, every flavour of the provider is tried and the one that
    reads the most kinds wins ('default', then genai-prices' order, on a tie). Raises UnreadableUsage."""
    if not isinstance(raw, Mapping):
        raise UnreadableUsage(
            "rawUsage", "must be a JSON object: the provider's usage object, response body or final stream chunk"
        )
    flavors = api_flavors(provider)
    if flavors is None:
        raise UnreadableUsage("provider", f"genai-prices reads no usage of provider {provider!r}: give token counts")
    if api_flavor is not None and api_flavor not in flavors:
        raise UnreadableUsage("apiFlavor", f"must be one of {', '.join(flavors)} for {provider} (got {api_flavor!r})")
    extractors = {e.api_flavor: e for e in get_snapshot().find_provider(None, provider, None).extractors or ()}
    found: list[ReadUsage] = []
    failures: list[str] = []
    for flavor in [api_flavor] if api_flavor is not None else flavors:
        extractor = extractors[flavor]
        reasons = []
        for body in bodies(raw, extractor.root):
            try:
                model, usage = extractor.extract(body)
            except Exception as error:  # any JSON may come: what an extractor cannot read is the JSON's fault
                reasons.append(str(error) or type(error).__name__)
                continue
            found.append(ReadUsage(model=model, api_flavor=flavor, kinds=reported(usage)))
            break
        else:
            failures.append(f"{flavor}: {reasons[-1]}")
    if not found:
        raise UnreadableUsage(
            "rawUsage", f"is not a {provider} usage genai-prices can read ({'; '.join(failures)})"[:1000]
        )
    return max(found, key=lambda r: len(r.kinds))  # max() keeps the first of equals


def bodies(raw: Mapping[str, Any], root: object) -> list[object]:
    """Where the extractor may find the usage in what was sent: as sent; inside a stream event's envelope; or,
    for the usage object alone, placed at the extractor's root path (`usage`, `usageMetadata`…)."""
    found: list[object] = [raw]
    if isinstance(raw.get("type"), str):
        found += [raw[key] for key in STREAM_ENVELOPES if isinstance(raw.get(key), Mapping)]
    path = [root] if isinstance(root, str) else list(root)  # type: ignore[call-overload]
    if all(isinstance(step, str) for step in path) and path[0] not in raw:
        wrapped: object = raw
        for step in reversed(path):
            wrapped = {step: wrapped}
        found.append(wrapped)
    return found


def reported(usage: object) -> dict[str, UsageValue]:
    """genai-prices' Usage as a plain dict of the kinds it reports with a count above zero."""
    values = {key: value for key, value in vars(usage).items() if key in USAGE_KEYS and value}
    return {key: value if isinstance(value, int) else float(value) for key, value in values.items()}


def kind_problem(key: str, value: object) -> str | None:
    """Why `value` cannot be a count of usage kind `key`, or None: an integer from 0 to MAX_COUNT (for kinds
    that are not tokens, e.g. audio_seconds, any number in that range)."""
    if key not in USAGE_KEYS:
        return f"{key[:60]!r} is not a genai-prices usage kind (e.g. cache_write_1h_tokens, input_audio_tokens)"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{key} must be a number"
    if not 0 <= value <= MAX_COUNT:  # NaN fails too
        return f"{key} must be a finite number, at least 0 and at most {MAX_COUNT}"
    if UNITS[key].dimensions.get("family") == "tokens" and not float(value).is_integer():
        return f"{key} must be a whole number of tokens"
    return None


def inconsistency(kinds: Mapping[str, UsageValue]) -> str | None:
    """Why the kinds contradict one another: a part larger than a whole it belongs to (cache reads above input
    tokens, 1-hour cache writes above cache writes, in genai-prices' hierarchy of kinds); None if none is.
    Parts that overlap (audio and tool-use input tokens) are not summed: only genai-prices' own pricing, for
    the kinds a model prices, knows how they split, and it refuses what does not fit then."""
    for key, value in sorted(kinds.items()):
        for whole in sorted(REGISTRY.ancestor_usage_keys(key)):
            if whole in TOTALS and whole not in kinds:
                return f"{key} ({value}) is given without {whole}, which counts it"
            if whole in kinds and value > kinds[whole]:
                return f"{key} ({value}) cannot exceed {whole} ({kinds[whole]})"
    return None
