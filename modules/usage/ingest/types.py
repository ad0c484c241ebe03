"""What trackUsage, trackUsageBatch and recostUsage answer."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import strawberry

from modules.core.scalars import BigInt
from modules.usage import records
from modules.usage.types import UsageEventType, plain_fields


@strawberry.type
class TrackUsagePayload:
    event: UsageEventType | None = strawberry.field(
        description="The stored event; null for a duplicate when the key cannot READ (the stored event may not be "
        "the caller's: any request id can be guessed)."
    )
    duplicate: bool = strawberry.field(description="True when this requestId was stored before; nothing changed.")


@strawberry.type
class TrackUsageBatchPayload:
    """The events are built only when the answer selects them (a batch's answer is often only its counts)."""

    events: list[UsageEventType | None] = strawberry.field(
        resolver=lambda root: root.shown_events(),  # built only when the answer selects them
        description="One per input, in input order; null for a duplicate when the key cannot READ.",
    )
    duplicates: list[bool] = strawberry.field(description="For each input, whether it was stored before.")
    inserted_count: int
    duplicate_count: int
    shown_events: strawberry.Private[Callable[[], list[UsageEventType | None]]]


@strawberry.type(name="RecostResult", description="What recostUsage changed; caller-priced events are never touched.")
class RecostResultType:
    examined: BigInt
    changed: BigInt
    cost_before_usd: Decimal
    cost_after_usd: Decimal

    @classmethod
    def from_model(cls, result: records.RecostResult) -> RecostResultType:
        return cls(**plain_fields(result))
