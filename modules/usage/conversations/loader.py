"""The per-request batch of content reads: every `conversation` field an answer asks is read in one statement
and logged as one read, named by the operation that asked it."""

from __future__ import annotations

from uuid import UUID

from strawberry.dataloader import DataLoader

from modules.core.errors import Forbidden
from modules.core.principal import Principal
from modules.usage.conversations.records import Conversation
from modules.usage.conversations.service import ConversationService

Key = tuple[UUID, int]  # (workspace, event)


class ConversationLoader:
    def __init__(self, service: ConversationService) -> None:
        self.service = service
        self.loaders: dict[tuple[Principal, str | None], DataLoader[Key, Conversation | None]] = {}

    async def load(self, key: Key, principal: Principal, operation: str | None) -> Conversation | None:
        """The event's content (None: none kept); raises FORBIDDEN without the CONTENT scope. Batched per caller
        (a WebSocket's principal is set when it connects) and operation."""
        batch = (principal, operation)
        if batch not in self.loaders:

            async def read(keys: list[Key]) -> list[Conversation | Forbidden | None]:
                return await self.service.conversations(principal, keys, operation=operation)

            self.loaders[batch] = DataLoader(load_fn=read)
        return await self.loaders[batch].load(key)

    def clear_all(self) -> None:
        """A subscription's next result reads content again (and logs that read)."""
        self.loaders.clear()
