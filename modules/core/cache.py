"""Small per-process caches for lookups read on every request and changed rarely: TtlCache, whose entries
expire (keys, workspaces: other processes see a change when the entry expires), and NotifiedCache, emptied by a
NOTIFY from the process that changed a row (price overrides, budgets: every process sees it at once)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.notifications import Notifications, publish

K = TypeVar("K")
V = TypeVar("V")
log = logging.getLogger(__name__)
LISTEN_RETRY_S = 5.0


@dataclass
class TtlCache(Generic[K, V]):
    ttl: float = 5.0
    max_entries: int = 10_000
    entries: dict[K, tuple[V, float]] = field(default_factory=dict)

    def get(self, key: K) -> V | None:
        found = self.entries.get(key)
        if found is None:
            return None
        value, expires = found
        if expires < time.monotonic():
            self.entries.pop(key, None)
            return None
        return value

    def put(self, key: K, value: V) -> None:
        if len(self.entries) >= self.max_entries:
            self.entries.clear()
        self.entries[key] = (value, time.monotonic() + self.ttl)

    def evict(self, key: K) -> None:
        self.entries.pop(key, None)


class NotifiedCache(Generic[K, V]):
    """A per-process cache of rows read on every ingest and changed rarely (price overrides, budgets), emptied
    when any process commits a change: the changing transaction NOTIFYs `channel` (`announce_change`), and
    every process's listener (`run`) clears its entries. It holds entries only while that LISTEN is up and has
    been since they were read (a change announced while it was down would go unheard); `ttl` bounds the rest.
    A read that raced a change is not kept: `put` takes the `version()` seen before reading."""

    def __init__(self, *, channel: str, notifications: Notifications, ttl: float = 300.0) -> None:
        self.channel = channel
        self.notifications = notifications
        self.entries: TtlCache[K, V] = TtlCache(ttl=ttl)
        self.generation = 0  # bumped by every change heard
        self.heard_since: int | None = None  # the LISTEN connection (by number) whose payloads were all heard

    def version(self) -> int:
        """Take before reading the database; give to `put`."""
        return self.generation

    def get(self, key: K) -> V | None:
        return self.entries.get(key) if self._current() else None

    def put(self, key: K, value: V, version: int) -> None:
        if self._current() and version == self.generation:
            self.entries.put(key, value)

    def clear(self) -> None:
        self.generation += 1
        self.entries.entries.clear()

    def _current(self) -> bool:
        """Whether every change since the entries were read has been heard; if the LISTEN connection was
        replaced, what it missed is forgotten and it counts from the new one."""
        if self.heard_since is None or not self.notifications.listening:
            return False
        if self.notifications.connections != self.heard_since:
            self.clear()
            self.heard_since = self.notifications.connections
        return True

    async def run(self) -> None:
        """Until cancelled: clear on every change announced on the channel, listening again if that fails."""
        while True:
            try:
                async with self.notifications.subscribe(self.channel) as queue:
                    self.clear()
                    self.heard_since = self.notifications.connections
                    while True:
                        await queue.get()
                        self.clear()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("cannot LISTEN on %s; not caching meanwhile", self.channel, exc_info=True)
            finally:
                self.heard_since = None
                self.clear()
            await asyncio.sleep(LISTEN_RETRY_S)


async def cached_many(
    cache: NotifiedCache[K, V] | None, keys: Collection[K], read: Callable[[set[K]], Awaitable[dict[K, V]]]
) -> dict[K, V]:
    """Each key's value: the cached ones, the rest `read` in one go (every missing key in its answer) and kept
    unless a change was heard while reading. Without a cache, all are read."""
    if cache is None:
        return await read(set(keys))
    found = {key: hit for key in keys if (hit := cache.get(key)) is not None}
    missing = set(keys) - found.keys()
    if missing:
        version = cache.version()
        read_now = await read(missing)
        for key, value in read_now.items():
            cache.put(key, value, version)
        found.update(read_now)
    return found


async def announce_change(session: AsyncSession, channel: str) -> None:
    """In the changing transaction: every process's NotifiedCache on `channel` clears when it commits."""
    await publish(session, channel, "")
