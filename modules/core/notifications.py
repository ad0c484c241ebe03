"""Postgres LISTEN/NOTIFY as the bus between server processes: a transaction publishes (delivered to every
listener when, and only if, it commits), and each process keeps one listening connection whose payloads it
hands to local asyncio queues. Payloads carry ids; listeners read the rows back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from modules.core.errors import Unavailable

log = logging.getLogger(__name__)
MAX_PAYLOAD_BYTES = 7900  # Postgres refuses payloads of 8,000 bytes or more
RECONNECT_DELAY_S = 1.0


async def publish(session: AsyncSession, channel: str, payload: str) -> None:
    """Sent on commit of the session's transaction; dropped with a rollback."""
    await session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload})


class Notifications:
    """One LISTEN connection per process, opened on the first subscription and re-opened if it drops
    (payloads sent while it was down are missed: consumers that must not miss work also poll)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.queues: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)
        self.connection: Any = None
        self.lock = asyncio.Lock()
        self.closed = False
        self.connections = 0  # LISTEN connections opened so far: a new one may have missed payloads

    @property
    def listening(self) -> bool:
        """Whether payloads are being received now (the LISTEN connection is open)."""
        return self.connection is not None and not self.connection.is_closed()

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[str]]:
        """A queue receiving every payload of `channel` from now until the block ends."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        async with self.lock:
            if self.connection is None or self.connection.is_closed():
                await self._connect()
            if channel not in self.queues:
                await self.connection.add_listener(channel, self._receive)
            self.queues[channel].add(queue)
        try:
            yield queue
        finally:
            self.queues[channel].discard(queue)

    async def _connect(self) -> None:
        """A new LISTEN connection, listening on every channel subscribed so far (hold the lock)."""
        try:
            self.connection = await asyncpg.connect(self.dsn)
        except (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError) as error:
            raise Unavailable("The database is unreachable. Retry later.", retryable=True) from error
        self.connection.add_termination_listener(self._lost)
        for channel in self.queues:
            await self.connection.add_listener(channel, self._receive)
        self.connections += 1

    def _receive(self, _connection: Any, _pid: int, channel: str, payload: str) -> None:
        for queue in self.queues.get(channel, ()):
            queue.put_nowait(payload)

    def _lost(self, _connection: Any) -> None:
        if not self.closed:
            log.warning("LISTEN connection lost; reconnecting")
            asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        while not self.closed:
            try:
                async with self.lock:
                    await self._connect()
                return
            except (Unavailable, asyncpg.PostgresError) as error:
                log.warning("LISTEN reconnect failed: %s", error)
                await asyncio.sleep(RECONNECT_DELAY_S)

    async def close(self) -> None:
        self.closed = True
        if self.connection is not None and not self.connection.is_closed():
            await self.connection.close()
