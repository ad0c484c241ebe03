"""Usage mutations: thin, they call UsageService."""

from __future__ import annotations

from typing import Protocol

import strawberry

from modules.core.principal import Principal, Scope
from modules.usage.filter.inputs import UsageFilter
from modules.usage.ingest.inputs import TrackUsageInput
from modules.usage.ingest.service import UsageService
from modules.usage.ingest.types import RecostResultType, TrackUsageBatchPayload, TrackUsagePayload
from modules.usage.ingest.validation import MAX_BATCH_SIZE
from modules.usage.records import TrackResult
from modules.usage.types import UsageEventType


class IngestContext(Protocol):
    principal: Principal
    usage: UsageService


def shown(result: TrackResult, principal: Principal) -> UsageEventType | None:
    """What a caller sees of a tracked event: its own new event always; a duplicate only with READ."""
    if result.duplicate and not principal.allows(Scope.READ):
        return None
    return UsageEventType.from_model(result.event)


@strawberry.type
class UsageMutation:
    @strawberry.mutation(description="Record one LLM call. Idempotent on (workspaceId, requestId).")
    async def track_usage(self, info: strawberry.Info[IngestContext], input: TrackUsageInput) -> TrackUsagePayload:
        ctx = info.context
        result = await ctx.usage.track(ctx.principal, input.to_model())
        return TrackUsagePayload(event=shown(result, ctx.principal), duplicate=result.duplicate)

    @strawberry.mutation(
        description=f"Record up to {MAX_BATCH_SIZE} calls, stored whole or not at all; an invalid input rejects "
        "the batch with BAD_USER_INPUT naming its index and field."
    )
    async def track_usage_batch(
        self, info: strawberry.Info[IngestContext], inputs: list[TrackUsageInput]
    ) -> TrackUsageBatchPayload:
        ctx = info.context
        results = await ctx.usage.track_batch(ctx.principal, [i.to_model() for i in inputs])
        duplicates = [r.duplicate for r in results]
        return TrackUsageBatchPayload(
            shown_events=lambda: [shown(r, ctx.principal) for r in results],
            duplicates=duplicates,
            inserted_count=duplicates.count(False),
            duplicate_count=duplicates.count(True),
        )

    @strawberry.mutation(
        description="Price the filtered events again (after setModelPrice, say), each at its own time. Events "
        "priced by their caller are never changed. Running it twice changes nothing the second time."
    )
    async def recost_usage(self, info: strawberry.Info[IngestContext], filter: UsageFilter) -> RecostResultType:
        ctx = info.context
        return RecostResultType.from_model(await ctx.usage.recost(ctx.principal, filter.to_model()))
