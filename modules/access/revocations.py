"""Revocation reaching every server process at once: the revoking transaction NOTIFYs the key's id and hash;
each process evicts the hash from its key cache and wakes whatever watches that key (open WebSockets).
While the LISTEN connection is down, the key cache's TTL is the bound instead."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from modules.access.keys import PrincipalCache
from modules.core.notifications import Notifications, publish

log = logging.getLogger(__name__)
REVOKED_CHANNEL = "llm_usage_key_revoked"
LISTEN_RETRY_S = 5.0


async def announce_revocation(session: AsyncSession, key_id: UUID, key_hash: str) -> None:
    """Delivered to every process when (and only if) the revoking transaction commits."""
    await publish(session, REVOKED_CHANNEL, f"{key_id} {key_hash}")


class KeyRevocations:
    def __init__(self, *, cache: PrincipalCache, notifications: Notifications) -> None:
        self.cache = cache
        self.notifications = notifications
        self.watchers: dict[UUID, set[asyncio.Event]] = defaultdict(set)

    def revoked(self, key_id: UUID, key_hash: str) -> None:
        """This process learns of a revocation (its own or another's)."""
        self.cache.evict(key_hash)
        for event in self.watchers.get(key_id, ()):
            event.set()

    async def wait(self, key_id: UUID, timeout: float) -> bool:
        """True when `key_id` is revoked within `timeout` seconds (as far as this process hears)."""
        event = asyncio.Event()
        self.watchers[key_id].add(event)
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self.watchers[key_id].discard(event)
            if not self.watchers[key_id]:
                del self.watchers[key_id]

    async def run(self) -> None:
        """Until cancelled: listen for revocations, listening again after the connection is lost."""
        while True:
            try:
                async with self.notifications.subscribe(REVOKED_CHANNEL) as queue:
                    while True:
                        self.received(await queue.get())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("cannot LISTEN for key revocations; retrying in %s s", LISTEN_RETRY_S, exc_info=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.sleep(LISTEN_RETRY_S)

    def received(self, payload: str) -> None:
        key_id, _, key_hash = payload.partition(" ")
        try:
            self.revoked(UUID(key_id), key_hash)
        except ValueError:
            log.warning("ignoring a malformed revocation notice")
