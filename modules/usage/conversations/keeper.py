"""Keeping a call's content as it is stored: in the transaction that stores its event, redacted, bounded and
compressed when its workspace has content on, else dropped and counted. The settings are read through a
NOTIFY-cleared cache (every stored batch asks them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from functools import lru_cache
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.cache import NotifiedCache, cached_many
from modules.core.database import Database
from modules.usage.conversations.bounds import bound
from modules.usage.conversations.codec import encode
from modules.usage.conversations.records import CallContent, ContentSettings
from modules.usage.conversations.redaction import Redactor
from modules.usage.conversations.repository import ConversationRepository, NewContent
from modules.usage.records import UsageEvent

SETTINGS_CHANNEL = "llm_usage_content_settings"


class ContentKeeper:
    def __init__(
        self,
        *,
        database: Database,
        repository: ConversationRepository,
        cache: NotifiedCache[UUID, ContentSettings] | None = None,
        on_dropped: Callable[[int], None] | None = None,
    ) -> None:
        self.database = database
        self.repository = repository
        self.cache = cache
        self.on_dropped = on_dropped

    async def settings(self, session: AsyncSession, workspace_ids: Collection[UUID]) -> dict[UUID, ContentSettings]:
        async def read(missing: set[UUID]) -> dict[UUID, ContentSettings]:
            return await self.repository.settings(session, missing)

        return await cached_many(self.cache, workspace_ids, read)

    async def enabled(self, workspace_id: UUID) -> bool:
        """Whether content is kept for this workspace now (the proxy asks before capturing any)."""
        async with self.database.session_factory() as session:
            return (await self.settings(session, [workspace_id]))[workspace_id].enabled

    async def on_stored_content(
        self, session: AsyncSession, contents: Sequence[tuple[UsageEvent, CallContent]]
    ) -> None:
        """Stored events that came with content: each kept or dropped by its workspace's setting."""
        settings = await self.settings(session, {event.workspace_id for event, _ in contents})
        dropped: Counter[UUID] = Counter()
        kept = []
        for event, content in contents:
            setting = settings[event.workspace_id]
            if setting.enabled:
                kept.append(prepared(event, content, setting))
            else:
                dropped[event.workspace_id] += 1
        if dropped:
            await self.repository.count_dropped(session, dropped)
            if self.on_dropped is not None:
                self.on_dropped(sum(dropped.values()))
        if kept:
            await self.repository.insert_contents(session, kept)


def prepared(event: UsageEvent, content: CallContent, setting: ContentSettings) -> NewContent:
    """Redacted first (the bound then measures what is stored), then bounded, then compressed."""
    messages, redactions = content.messages, 0
    if setting.redaction:
        messages, redactions = redactor(setting.redaction_patterns).redact(messages)
    bounded = bound(messages)
    return NewContent(
        workspace_id=event.workspace_id,
        event_id=event.id,
        occurred_at=event.occurred_at,
        body=encode(bounded.messages),
        original_bytes=bounded.original_bytes,
        truncated=bounded.truncated,
        omitted_messages=bounded.omitted_messages,
        redactions=redactions,
    )


@lru_cache(maxsize=256)
def redactor(custom_patterns: tuple[str, ...]) -> Redactor:
    """Compiled once per set of patterns (the defaults and the workspace's own)."""
    return Redactor(custom_patterns)
