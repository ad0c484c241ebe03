"""Storing accepted inputs: priced, inserted idempotently, their users registered and the stored-events hooks run,
all in one transaction. A batch and a group of single calls (group_commit.py) are stored the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.database import Database, once_more_if_disconnected
from modules.core.dataclass_builder import build_dataclass
from modules.core.errors import BadUserInput, Problem
from modules.core.transactions import with_retries
from modules.providers import PricedCost, PriceRequest, ProviderService, UnpriceableUsage
from modules.usage.conversations.records import CallContent
from modules.usage.ingest.validation import CheckedInput
from modules.usage.records import NewUsageEvent, TrackResult, UsageDraft, UsageEvent
from modules.usage.repository import UsageRepository
from modules.users import UserService


class StoredEventsHook(Protocol):
    """Runs inside the transaction that stores a batch, with the events stored now (not the duplicates):
    what it writes commits or rolls back with them. Budgets and the live stream plug in here."""

    async def on_stored(self, session: AsyncSession, events: Sequence[UsageEvent]) -> None: ...


class StoredContentHook(Protocol):
    """Runs inside the storing transaction with the stored events that came with content (a duplicate's content
    is not given: the first call's stands). Conversation content plugs in here (kept or dropped and counted)."""

    async def on_stored_content(
        self, session: AsyncSession, contents: Sequence[tuple[UsageEvent, CallContent]]
    ) -> None: ...


@dataclass(frozen=True)
class AcceptedInput:
    """An input that passed validation and authorisation: what is left to do is pricing and storing it. Its
    request id is fixed here, so redoing the work (a dead connection, a split group) never doubles it."""

    item: UsageDraft
    checked: CheckedInput
    workspace_id: UUID
    provider_instance_id: UUID | None
    request_id: str
    received_at: datetime
    index: int | None  # its index in a batch, named by problems; None for a single call


@dataclass(frozen=True)
class EventWriter:
    """The collaborators of one storing transaction. Compared by the database, the repository and the hooks, so
    single calls of services wired alike share a transaction (group_commit.py groups by writer); the users and
    providers services are made per request and hold no state of their own: any caller's will do."""

    database: Database
    repository: UsageRepository
    users: UserService = field(compare=False)
    providers: ProviderService = field(compare=False)
    hooks: tuple[StoredEventsHook, ...] = ()
    content: StoredContentHook | None = None

    async def store(self, accepted: Sequence[AcceptedInput]) -> list[TrackResult]:
        """Each input's stored event, in order; one seen before (or earlier in `accepted`) is a duplicate.
        Counts genai-prices cannot price refuse the inputs (BAD_USER_INPUT naming each one's field)."""

        async def work(session: AsyncSession) -> tuple[list[NewUsageEvent], list[UsageEvent], list[UsageEvent]]:
            events = await self.priced_events(session, accepted)
            stored = await self.repository.insert_many(session, events)
            stored_now = {(e.workspace_id, e.request_id) for e in stored}
            earlier = [
                (e.workspace_id, e.request_id) for e in events if (e.workspace_id, e.request_id) not in stored_now
            ]
            found_earlier = await self.repository.find_by_request_ids(session, earlier)
            await self.users.register_seen(session, {(e.workspace_id, e.user_id) for e in stored if e.user_id})
            if stored:  # the content before the hooks: the rollups' row locks are held from their hook to the commit
                await self.keep_content(session, accepted, stored)
                for hook in self.hooks:
                    await hook.on_stored(session, stored)
            return events, stored, found_earlier

        events, stored, found_earlier = await once_more_if_disconnected(lambda: with_retries(self.database, work))
        stored_now = {(e.workspace_id, e.request_id) for e in stored}
        by_key = {(e.workspace_id, e.request_id): e for e in [*stored, *found_earlier]}
        results, claimed = [], set()
        for event in events:
            key = (event.workspace_id, event.request_id)
            results.append(TrackResult(event=by_key[key], duplicate=key not in stored_now or key in claimed))
            claimed.add(key)
        return results

    async def keep_content(
        self, session: AsyncSession, accepted: Sequence[AcceptedInput], stored: Sequence[UsageEvent]
    ) -> None:
        if self.content is None:
            return
        said: dict[tuple[UUID, str], CallContent] = {}
        for a in accepted:  # the first input of a request id is the one stored
            if a.checked.content is not None:
                said.setdefault((a.workspace_id, a.request_id), a.checked.content)
        contents = [(e, said[key]) for e in stored if (key := (e.workspace_id, e.request_id)) in said]
        if contents:
            await self.content.on_stored_content(session, contents)

    async def priced_events(self, session: AsyncSession, accepted: Sequence[AcceptedInput]) -> list[NewUsageEvent]:
        """Price what the caller did not price itself (its own figure wins: CALLER) and build the events; the
        overrides are read in the storing transaction."""
        to_price = [a for a in accepted if a.checked.cost_usd is None]
        requests = [
            PriceRequest(
                workspace_id=a.workspace_id,
                provider=a.checked.provider,
                model=a.checked.model,
                provider_instance_id=a.provider_instance_id,
                occurred_at=a.item.occurred_at or a.received_at,
                tokens=a.checked.tokens,
            )
            for a in to_price
        ]
        try:
            priced = await self.providers.price_many(requests, session)
        except UnpriceableUsage as refused:
            raise BadUserInput(
                [
                    Problem(counts_field(to_price[i].item), reason, to_price[i].index)
                    for i, reason in sorted(refused.reasons.items())
                ]
            ) from None
        costs = iter(priced)  # in the order of `to_price`: the inputs without a figure of their own
        return [
            new_event(
                a, next(costs) if a.checked.cost_usd is None else PricedCost.caller(a.checked.cost_usd), self.providers
            )
            for a in accepted
        ]


def new_event(accepted: AcceptedInput, cost: PricedCost, providers: ProviderService) -> NewUsageEvent:
    item, parts = accepted.item, accepted.checked
    return build_dataclass(  # a batch at a time: at a third of __init__'s cost (modules/core/dataclass_builder.py)
        NewUsageEvent,
        dict(
            workspace_id=accepted.workspace_id,
            request_id=accepted.request_id,
            occurred_at=item.occurred_at or accepted.received_at,
            received_at=accepted.received_at,
            provider=parts.provider,
            model=parts.model,
            provider_instance_id=accepted.provider_instance_id,
            task_type=item.task_type,
            user_id=item.user_id,
            session_id=item.session_id,
            prompt_tokens=parts.tokens.prompt,
            completion_tokens=parts.tokens.completion,
            total_tokens=parts.total_tokens,
            cached_prompt_tokens=parts.tokens.cached_prompt,
            cache_write_tokens=parts.tokens.cache_write,
            reasoning_tokens=parts.tokens.reasoning,
            input_cost_usd=cost.input_cost_usd,
            output_cost_usd=cost.output_cost_usd,
            cost_usd=cost.cost_usd,
            cost_source=cost.source,
            duration_ms=item.duration_ms,
            time_to_first_token_ms=item.time_to_first_token_ms,
            status=parts.status,
            error_type=item.error_type,
            error_message=item.error_message,
            retry_count=item.retry_count or 0,
            streamed=item.streamed,
            tags=parts.tags,
            audio_tokens=parts.audio_tokens,
            usage_kinds=dict(parts.tokens.extra),
            catalogue_model=providers.catalogue_model(parts.provider, parts.model),
        ),
    )


def counts_field(item: UsageDraft) -> str:
    """The input field an input's counts came from, to name when they cannot be priced."""
    if item.raw_usage is not None:
        return "rawUsage"
    return "usageKinds" if item.usage_kinds is not None else "promptTokens"
