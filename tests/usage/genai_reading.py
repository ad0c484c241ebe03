"""genai-prices' own reading of a provider's response — `extract_usage` + `calc_price`, nothing of ours — as
the fields a stored event must show, and the query that reads those fields back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import genai_prices
from genai_prices.data_snapshot import get_snapshot

# genai-prices' kind → the event's column (the oracle's own copy: it must not read the service's)
COLUMNS = {
    "input_tokens": "promptTokens",
    "output_tokens": "completionTokens",
    "cache_read_tokens": "cachedPromptTokens",
    "cache_write_tokens": "cacheWriteTokens",
    "output_reasoning_tokens": "reasoningTokens",
}
EVENT_FIELDS = (
    "requestId model catalogueModel promptTokens completionTokens cachedPromptTokens cacheWriteTokens "
    "reasoningTokens audioTokens totalTokens usageKinds inputCostUsd outputCostUsd costUsd costSource streamed "
    "durationMs timeToFirstTokenMs"
)
EVENTS = (
    "query($ws: ID!) { usageEvents(filter: {workspaceId: $ws}, first: 100) { edges { node { "
    + EVENT_FIELDS
    + " } } } }"
)


def genai_reading(body: Any, provider: str, flavor: str, at: datetime, model: str | None = None) -> dict[str, Any]:
    """The event fields genai-prices' reading of `body` gives; `model` names it when the body does not."""
    extracted = genai_prices.extract_usage(body, provider_id=provider, api_flavor=flavor)
    info = extracted.model or get_snapshot().find_provider_model(str(model), None, provider, None)[1]
    price = extracted.calc_price(genai_request_timestamp=at, model=info)
    kinds = {key: value for key, value in vars(extracted.usage).items() if value}
    return {
        "catalogueModel": info.id,
        **{column: kinds.get(key, 0) for key, column in COLUMNS.items()},
        "totalTokens": kinds.get("input_tokens", 0) + kinds.get("output_tokens", 0),
        "audioTokens": kinds.get("input_audio_tokens", 0) + kinds.get("output_audio_tokens", 0),
        "usageKinds": {key: value for key, value in kinds.items() if key not in COLUMNS},
        "inputCostUsd": price.input_price,
        "outputCostUsd": price.output_price,
        "costUsd": price.total_price,
        "costSource": "CATALOG",
    }


def as_read(event: dict[str, Any]) -> dict[str, Any]:
    """A stored event's fields as genai_reading gives them (costs as Decimals, compared to the digit)."""
    shown = {key: event[key] for key in ("catalogueModel", *COLUMNS.values(), "totalTokens", "audioTokens")}
    shown["usageKinds"] = event["usageKinds"]
    shown.update({key: Decimal(event[key]) for key in ("inputCostUsd", "outputCostUsd", "costUsd")})
    shown["costSource"] = event["costSource"]
    return shown
